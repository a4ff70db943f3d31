{{/*
A worker Deployment. Called from worker-cpu.yaml and worker-gpu.yaml with
(dict "root" $ "kind" "cpu"|"gpu" "w" .Values.workers.<kind> "image" .Values.images.<image>).
The GPU kind adds the GPU limit, the RuntimeClass and the model and index volumes.
*/}}
{{- define "weft.worker" -}}
{{- $root := .root -}}
{{- $w := .w -}}
{{- $gpu := eq .kind "gpu" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "weft.fullname" $root }}-worker-{{ .kind }}
  labels:
    {{- include "weft.labels" $root | nindent 4 }}
    app.kubernetes.io/component: worker-{{ .kind }}
spec:
  {{- if not $w.autoscaling.enabled }}
  replicas: {{ $w.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      {{- if $gpu }}
      # A GPU is rarely free for a surge pod: replace one at a time.
      maxSurge: 0
      maxUnavailable: 1
      {{- else }}
      maxSurge: 25%
      maxUnavailable: 0
      {{- end }}
  selector:
    matchLabels:
      {{- include "weft.selectorLabels" $root | nindent 6 }}
      app.kubernetes.io/component: worker-{{ .kind }}
  template:
    metadata:
      labels:
        {{- include "weft.selectorLabels" $root | nindent 8 }}
        app.kubernetes.io/component: worker-{{ .kind }}
      annotations:
        checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
        prometheus.io/scrape: "true"
        prometheus.io/port: "9464"
        prometheus.io/path: /metrics
    spec:
      serviceAccountName: {{ include "weft.serviceAccountName" $root }}
      automountServiceAccountToken: false
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      # SIGTERM stops polling and gives running activities shutdownGraceSeconds before cancelling them.
      terminationGracePeriodSeconds: {{ $w.terminationGracePeriodSeconds }}
      {{- if and $gpu $w.runtimeClassName }}
      runtimeClassName: {{ $w.runtimeClassName }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      {{- with $w.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $w.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $w.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: worker
          image: {{ include "weft.image" (list $root .image) }}
          imagePullPolicy: {{ .image.pullPolicy }}
          ports:
            - name: metrics
              containerPort: 9464
            - name: sdk-metrics
              containerPort: 9465
          envFrom:
            - configMapRef:
                name: {{ include "weft.fullname" $root }}-config
          env:
            # Poll this kind's queue only (a process polls both by default).
            - name: WEFT_WORKER_QUEUES
              value: {{ .kind | quote }}
            - name: WEFT_TASK_QUEUE
              value: {{ $w.taskQueue | quote }}
            - name: MAX_CONCURRENT_ACTIVITIES
              value: {{ $w.maxConcurrentActivities | quote }}
            - name: MAX_CACHED_WORKFLOWS
              value: {{ $w.maxCachedWorkflows | quote }}
            - name: WORKER_SHUTDOWN_GRACE_SECONDS
              value: {{ $w.shutdownGraceSeconds | quote }}
            - name: WORKER_METRICS_PORT
              value: "9464"
            - name: TEMPORAL_METRICS_PORT
              value: "9465"
            {{- if $gpu }}
            - name: WEFT_GPU_MAX_CONCURRENT_ACTIVITIES
              value: {{ $w.maxConcurrentActivities | quote }}
            - name: MODEL_DIR
              value: {{ $w.models.mountPath | quote }}
            - name: INDEX_DIR
              value: {{ $w.indexes.mountPath | quote }}
            {{- end }}
            {{- include "weft.secretEnv" $root | nindent 12 }}
            {{- with $w.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          # /healthz answers 200 only while the Temporal worker is RUNNING (503 while starting or draining).
          startupProbe:
            httpGet:
              path: /healthz
              port: metrics
            periodSeconds: 5
            failureThreshold: 60
          readinessProbe:
            httpGet:
              path: /healthz
              port: metrics
            periodSeconds: 10
            timeoutSeconds: 3
          livenessProbe:
            httpGet:
              path: /healthz
              port: metrics
            periodSeconds: 20
            timeoutSeconds: 3
            failureThreshold: 3
          resources:
            requests:
              {{- toYaml $w.resources.requests | nindent 14 }}
            limits:
              {{- with $w.resources.limits }}
              {{- toYaml . | nindent 14 }}
              {{- end }}
              {{- if $gpu }}
              nvidia.com/gpu: {{ $w.gpusPerPod }}
              {{- end }}
          securityContext:
            {{- toYaml $root.Values.containerSecurityContext | nindent 12 }}
          volumeMounts:
            {{- include "weft.commonMounts" $root | nindent 12 }}
            {{- if $gpu }}
            - name: models
              mountPath: {{ $w.models.mountPath }}
              readOnly: true
            - name: indexes
              mountPath: {{ $w.indexes.mountPath }}
            {{- end }}
      volumes:
        {{- include "weft.commonVolumes" (dict "root" $root "tmpSize" (ternary "1Gi" "256Mi" $gpu)) | nindent 8 }}
        {{- if $gpu }}
        - name: models
          persistentVolumeClaim:
            claimName: {{ default (printf "%s-models" (include "weft.fullname" $root)) $w.models.existingClaim }}
            readOnly: true
        - name: indexes
          persistentVolumeClaim:
            claimName: {{ default (printf "%s-indexes" (include "weft.fullname" $root)) $w.indexes.existingClaim }}
        {{- end }}
{{- end -}}
