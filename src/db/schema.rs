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
    }
}

diesel::joinable!(units -> operations (operation_id));
diesel::allow_tables_to_appear_in_same_query!(operations, units, issued_tokens, revoked_tokens);

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
