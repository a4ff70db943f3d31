// Force-included into faiss-node's sources: faiss 1.7.3 (Debian's) names the index id type
// faiss::Index::idx_t; faiss-node expects faiss::idx_t, which faiss 1.7.4 introduced.
#pragma once
#include <faiss/Index.h>
namespace faiss {
using idx_t = Index::idx_t;
}
