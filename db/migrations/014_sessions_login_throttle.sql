-- Login attempts per account and per client address in fixed windows, shared by every API process.
-- `key` is 'account:<lower email>' or 'address:<ip>'; a successful login gives its attempt back.
CREATE TABLE login_attempts (
  key text PRIMARY KEY,
  attempts integer NOT NULL,
  window_start timestamptz NOT NULL
);
CREATE INDEX login_attempts_window_start ON login_attempts (window_start);
