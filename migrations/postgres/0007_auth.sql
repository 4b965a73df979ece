-- Sign-in and audit: the keys that sign identity tokens, browser sessions,
-- personal API tokens and the audit log. Times are Unix milliseconds.

-- The public halves of the ES256 keys that sign identity tokens. Each replica
-- keeps its private key in memory only and publishes the public key here, so
-- every replica verifies every replica's tokens; a key stays listed until
-- the tokens it signed have expired.
CREATE TABLE auth_signing_keys (
    kid TEXT PRIMARY KEY,
    -- The public key as a JWK (JSON).
    public_jwk TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Browser sessions. Only the SHA-256 of the cookie value is stored.
CREATE TABLE auth_sessions (
    id_hash TEXT PRIMARY KEY,
    user_entity_ref TEXT NOT NULL,
    -- JSON array of the ownership refs resolved at sign-in.
    ownership_refs TEXT NOT NULL,
    provider TEXT NOT NULL,
    -- JSON {displayName, email, picture}.
    profile TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX auth_sessions_expiry ON auth_sessions (expires_at);

-- Personal API tokens. Only the SHA-256 of the token is stored; it is shown once.
CREATE TABLE auth_api_tokens (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_entity_ref TEXT NOT NULL,
    ownership_refs TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX auth_api_tokens_user ON auth_api_tokens (user_entity_ref, created_at);

-- Who did what, when, and how it ended: every state-changing request and every sign-in.
CREATE TABLE audit_events (
    id BIGSERIAL PRIMARY KEY,
    created_at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    outcome TEXT NOT NULL,
    status BIGINT NOT NULL,
    detail TEXT,
    ip TEXT
);
CREATE INDEX audit_events_actor ON audit_events (actor, id);
CREATE INDEX audit_events_action ON audit_events (action, id);
