import GRDB

/// The vault schema as GRDB migrations. Only ids, timestamps, counters, sizes and format
/// metadata are plaintext; everything personal is in a `sealed` column.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE vault_header (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        format_version INTEGER NOT NULL,
                        vault_id BLOB NOT NULL,
                        kdf_alg TEXT NOT NULL,
                        kdf_ops INTEGER NOT NULL,
                        kdf_mem INTEGER NOT NULL,
                        salt BLOB NOT NULL,
                        wrapped_key BLOB NOT NULL,
                        box_public_key BLOB NOT NULL,
                        sign_public_key BLOB NOT NULL,
                        box_secret_sealed BLOB NOT NULL,
                        sign_secret_sealed BLOB NOT NULL,
                        created_at INTEGER NOT NULL,
                        checksum BLOB NOT NULL
                    );
                    CREATE TABLE profile (
                        id TEXT PRIMARY KEY,
                        key_index BLOB NOT NULL UNIQUE,
                        sealed BLOB NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE TABLE vendors (
                        id TEXT PRIMARY KEY,
                        name_index BLOB NOT NULL UNIQUE,
                        sealed BLOB NOT NULL,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE TABLE grants (
                        id TEXT PRIMARY KEY,
                        selector BLOB NOT NULL UNIQUE,
                        secret_hash BLOB NOT NULL,
                        binding TEXT NOT NULL CHECK (binding IN ('bearer', 'key')),
                        created_at INTEGER NOT NULL,
                        expires_at INTEGER,
                        max_uses INTEGER,
                        use_count INTEGER NOT NULL DEFAULT 0,
                        revoked_at INTEGER,
                        share_version INTEGER NOT NULL DEFAULT 0,
                        sealed BLOB NOT NULL,
                        share_key_sealed BLOB
                    );
                    CREATE TABLE shares (
                        grant_id TEXT PRIMARY KEY REFERENCES grants(id) ON DELETE CASCADE,
                        version INTEGER NOT NULL,
                        body BLOB NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE TABLE audit_writers (
                        id TEXT PRIMARY KEY,
                        public_key BLOB NOT NULL,
                        created_at INTEGER NOT NULL
                    );
                    CREATE TABLE audit (
                        seq INTEGER PRIMARY KEY,
                        at INTEGER NOT NULL,
                        event TEXT NOT NULL,
                        writer_id TEXT NOT NULL,
                        body BLOB NOT NULL,
                        hash BLOB NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v2-records") { db in
            try db.execute(
                sql: """
                    CREATE TABLE purchases (
                        id TEXT PRIMARY KEY,
                        vendor_id TEXT NOT NULL,
                        dedupe_index BLOB UNIQUE,
                        sealed BLOB NOT NULL,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE INDEX purchases_by_vendor ON purchases (vendor_id);
                    CREATE TABLE cases (
                        id TEXT PRIMARY KEY,
                        vendor_id TEXT NOT NULL,
                        sealed BLOB NOT NULL,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE INDEX cases_by_vendor ON cases (vendor_id);
                    """)
        }
        // Format 2 (`Specs/vault-format.md` §11): the columns that authenticate what the CLI
        // decides on. They only add to the schema; a format-1 vault gets them at its next open
        // (NULL) and is moved to format 2 — every column filled, sealed and MAC'd — by the CLI
        // on its first unlock (`FormatMigration`).
        migrator.registerMigration("v3-authenticated") { db in
            try db.execute(
                sql: """
                    ALTER TABLE vault_header ADD COLUMN mac BLOB;
                    ALTER TABLE vault_header ADD COLUMN generation INTEGER;
                    ALTER TABLE vault_header ADD COLUMN records_digest BLOB;
                    ALTER TABLE grants ADD COLUMN status_sealed BLOB;
                    ALTER TABLE audit ADD COLUMN mac BLOB;
                    CREATE TABLE retired_keys (
                        id TEXT PRIMARY KEY,
                        box_public_key BLOB NOT NULL,
                        box_secret_sealed BLOB NOT NULL,
                        retired_at INTEGER NOT NULL
                    );
                    """)
        }
        // A relay link (`Specs/relay.md`): the sealed link state, and the grants whose change
        // the relay has not acknowledged yet (queued by `GrantsTable` in the transaction that
        // changes the grant, not by triggers: a host that can write the file could drop those).
        migrator.registerMigration("v4-relay") { db in
            try db.execute(
                sql: """
                    CREATE TABLE relay_link (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        sealed BLOB NOT NULL
                    );
                    CREATE TABLE relay_outbox (
                        grant_id TEXT PRIMARY KEY
                    );
                    """)
        }
        // Access requests and notifications (`Specs/requests.md`). `request_links` and
        // `grant_notify` and `notify_settings` are the CLI's (in the records digest, but for
        // `used_at`, which the endpoint sets); `access_requests` rows are the endpoint's, their
        // decision the CLI's (`decision_sealed`); `notify_outbox` is the endpoint's to work off.
        migrator.registerMigration("v5-requests") { db in
            try db.execute(
                sql: """
                    CREATE TABLE request_links (
                        selector BLOB PRIMARY KEY,
                        code_hash BLOB NOT NULL,
                        created_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        sealed BLOB NOT NULL,
                        used_at INTEGER
                    );
                    CREATE TABLE access_requests (
                        id TEXT PRIMARY KEY,
                        link_selector BLOB NOT NULL,
                        sealed BLOB NOT NULL,
                        proof BLOB NOT NULL,
                        received_at INTEGER NOT NULL,
                        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied')),
                        decided_at INTEGER,
                        grant_id TEXT,
                        endpoint TEXT,
                        token_sealed BLOB,
                        decision_sealed BLOB
                    );
                    CREATE TABLE grant_notify (
                        grant_id TEXT PRIMARY KEY,
                        url TEXT NOT NULL
                    );
                    CREATE TABLE notify_outbox (
                        id TEXT PRIMARY KEY,
                        grant_id TEXT NOT NULL,
                        url TEXT NOT NULL,
                        body BLOB NOT NULL,
                        created_at INTEGER NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_at INTEGER NOT NULL,
                        last_status INTEGER,
                        last_error TEXT,
                        delivered_at INTEGER,
                        stopped_at INTEGER
                    );
                    CREATE INDEX notify_outbox_due ON notify_outbox (next_at) WHERE delivered_at IS NULL AND stopped_at IS NULL;
                    CREATE TABLE notify_settings (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        key_id TEXT NOT NULL,
                        public_key BLOB NOT NULL,
                        secret_key BLOB NOT NULL,
                        certificate TEXT NOT NULL,
                        customer_kind TEXT,
                        customer_url TEXT,
                        customer_interval INTEGER
                    );
                    """)
        }
        return migrator
    }
}
