//! The portable schema: one `table!` per table, written with types both backends share
//! (`Text`, `BigInt`, `Integer`, `Bool`, `Date`, `Timestamp`). Timestamps are UTC.

diesel::table! {
    /// Operations: one week of action each.
    operations (id) {
        id -> Text,
        name -> Text,
        description -> Text,
        coordinator -> Text,
        status -> Text,
        starts_on -> Date,
        ends_on -> Date,
        public -> Bool,
        suppression_threshold -> Integer,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        time_zone -> Text,
        report_deadline -> Text,
    }
}

diesel::table! {
    /// National units taking part in an operation.
    units (id) {
        id -> BigInt,
        operation_id -> Text,
        country -> Text,
        name -> Text,
        kind -> Text,
        officers_deployed -> BigInt,
        active -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        feed_txn -> BigInt,
        feed_index -> Integer,
    }
}

diesel::joinable!(units -> operations (operation_id));
diesel::allow_tables_to_appear_in_same_query!(
    operations,
    units,
    issued_tokens,
    revoked_tokens,
    interceptions,
    interception_versions,
    log_head,
    commits,
    idempotency_keys,
    tally_cells,
    reported_tallies,
    reporting,
    reporting_days,
    reporting_status,
    audit_log,
    releases,
    release_cells
);

diesel::table! {
    /// Tokens issued by this service.
    issued_tokens (jti) {
        jti -> Text,
        sub -> Text,
        scope -> Text,
        countries -> Text,
        op_ids -> Text,
        issued_by -> Text,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
        parent_jti -> Nullable<Text>,
        issuer_sub -> Text,
    }
}

diesel::table! {
    /// Revoked token ids.
    revoked_tokens (jti) {
        jti -> Text,
        revoked_by -> Text,
        revoked_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Interceptions; `body` is the canonical JSON of the content.
    interceptions (id) {
        id -> BigInt,
        operation_id -> Text,
        country -> Text,
        external_ref -> Text,
        kind -> Text,
        occurred_at -> Timestamp,
        body -> Text,
        content_hash -> Text,
        version -> BigInt,
        deleted -> Bool,
        reported_by_sub -> Text,
        reported_by_jti -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        feed_txn -> BigInt,
        feed_index -> Integer,
    }
}

diesel::table! {
    /// The one row that hands out sequence numbers.
    log_head (id) {
        id -> Integer,
        change_seq -> BigInt,
        audit_seq -> BigInt,
        audit_hash -> Text,
        commit_txn -> BigInt,
    }
}

diesel::table! {
    /// Write transactions that changed records of the feed, with the feed positions each was
    /// given at commit (`first_pos..=last_pos`); a record's position is `first_pos + feed_index`.
    commits (txn) {
        txn -> BigInt,
        operation_id -> Text,
        first_pos -> BigInt,
        last_pos -> BigInt,
        committed_at -> Timestamp,
    }
}

diesel::table! {
    /// Idempotency keys and the responses they replay.
    idempotency_keys (owner, idem_key) {
        owner -> Text,
        idem_key -> Text,
        fingerprint -> Text,
        status -> Nullable<Integer>,
        response -> Nullable<Text>,
        etag -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Derived tally cells.
    tally_cells (operation_id, metric, dimension, country, bucket) {
        operation_id -> Text,
        country -> Text,
        metric -> Text,
        dimension -> Text,
        bucket -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    /// Reported tallies, one row per version; `is_current` marks the latest.
    reported_tallies (operation_id, country, metric, version) {
        operation_id -> Text,
        country -> Text,
        metric -> Text,
        version -> BigInt,
        is_current -> Bool,
        value -> BigInt,
        breakdown -> Text,
        as_of -> Date,
        content_hash -> Text,
        reported_by_sub -> Text,
        reported_by_jti -> Text,
        reported_at -> Timestamp,
        feed_txn -> BigInt,
        feed_index -> Integer,
    }
}

diesel::table! {
    /// When each country of an operation last reported.
    reporting (operation_id, country) {
        operation_id -> Text,
        country -> Text,
        last_reported_at -> Timestamp,
        last_sub -> Text,
        last_what -> Text,
    }
}

diesel::table! {
    /// What each country reported for each day of an operation, kept by the writes.
    reporting_days (operation_id, country, day) {
        operation_id -> Text,
        country -> Text,
        day -> Date,
        records -> BigInt,
        stated -> BigInt,
        first_at -> Timestamp,
        last_at -> Timestamp,
        nil_at -> Nullable<Timestamp>,
        nil_sub -> Nullable<Text>,
        nil_version -> BigInt,
        feed_txn -> BigInt,
        feed_index -> Integer,
    }
}

diesel::table! {
    /// The finality of each country's figures in an operation (no row: provisional).
    reporting_status (operation_id, country) {
        operation_id -> Text,
        country -> Text,
        status -> Text,
        version -> BigInt,
        reason -> Nullable<Text>,
        changed_at -> Timestamp,
        changed_by -> Text,
        feed_txn -> BigInt,
        feed_index -> Integer,
    }
}

diesel::table! {
    /// The audit trail, a hash chain in `seq` order.
    audit_log (seq) {
        seq -> BigInt,
        at -> Timestamp,
        operation_id -> Text,
        sub -> Text,
        jti -> Text,
        country -> Text,
        action -> Text,
        entity -> Text,
        entity_key -> Text,
        version -> BigInt,
        payload_sha256 -> Text,
        prev_hash -> Text,
        hash -> Text,
        items -> Text,
    }
}

diesel::table! {
    /// Releases: frozen, reviewed snapshots of an operation's figures; published ones never change.
    releases (operation_id, number) {
        operation_id -> Text,
        number -> BigInt,
        kind -> Text,
        status -> Text,
        operation_name -> Text,
        as_of_seq -> BigInt,
        threshold -> Integer,
        rounding_base -> Integer,
        participating_countries -> Integer,
        created_at -> Timestamp,
        created_by_sub -> Text,
        created_by_jti -> Text,
        published_at -> Nullable<Timestamp>,
        published_by_sub -> Nullable<Text>,
        published_by_jti -> Nullable<Text>,
    }
}

diesel::table! {
    /// The figures of each release: true value, rounded figure, and how it is published.
    release_cells (operation_id, number, metric, dimension, country, bucket) {
        operation_id -> Text,
        number -> BigInt,
        metric -> Text,
        dimension -> Text,
        country -> Text,
        bucket -> Text,
        value -> BigInt,
        rounded -> Nullable<BigInt>,
        exact -> Bool,
        listed -> Bool,
        carried_from -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// Spreadsheet imports: the file, who sent it, and what became of its rows.
    imports (id) {
        id -> BigInt,
        operation_id -> Text,
        country -> Text,
        created_at -> Timestamp,
        created_by_sub -> Text,
        created_by_jti -> Text,
        file_name -> Text,
        format -> Text,
        encoding -> Nullable<Text>,
        size_bytes -> BigInt,
        sha256 -> Text,
        atomic -> Bool,
        stored -> Bool,
        row_count -> Integer,
        created -> Integer,
        updated -> Integer,
        unchanged -> Integer,
        rejected -> Integer,
        skipped -> Integer,
        error_count -> Integer,
        errors -> Text,
        content -> Binary,
    }
}

diesel::table! {
    /// Versions of interceptions superseded by a later write, kept whole.
    interception_versions (interception_id, version) {
        interception_id -> BigInt,
        version -> BigInt,
        body -> Text,
        content_hash -> Text,
        deleted -> Bool,
        reported_by_sub -> Text,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(interception_versions -> interceptions (interception_id));
