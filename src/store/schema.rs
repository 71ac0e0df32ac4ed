//! The one schema both backends share: only types common to PostgreSQL and
//! SQLite (BigInt, Text, Bool). `migrations/postgres` and `migrations/sqlite`
//! create it; a test checks that both trees give the same columns.

diesel::table! {
    platforms (id) {
        id -> BigInt,
        name -> Text,
        lms -> Text,
        issuer -> Text,
        client_id -> Text,
        auth_url -> Text,
        jwks_url -> Text,
        token_url -> Nullable<Text>,
        created_at -> BigInt,
        invite_to_media -> Bool,
        media_page -> Bool,
        deployment_policy -> Text,
        pending -> Bool,
        registration_host -> Nullable<Text>,
    }
}

diesel::table! {
    deployments (platform_id, deployment_id) {
        platform_id -> BigInt,
        deployment_id -> Text,
        created_at -> BigInt,
        added_by -> Text,
    }
}

diesel::table! {
    tool_keys (kid) {
        kid -> Text,
        private_key -> Text,
        public_n -> Text,
        public_e -> Text,
        created_at -> BigInt,
        retired_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    login_states (state_hash) {
        state_hash -> Text,
        platform_id -> BigInt,
        nonce_hash -> Text,
        binding_hash -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        platform_id -> BigInt,
        sub -> Text,
        name -> Nullable<Text>,
        email -> Nullable<Text>,
        updated_at -> BigInt,
    }
}

diesel::table! {
    courses (id) {
        id -> BigInt,
        platform_id -> BigInt,
        context_id -> Text,
        label -> Nullable<Text>,
        title -> Nullable<Text>,
        updated_at -> BigInt,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        platform_id -> BigInt,
        user_id -> Nullable<BigInt>,
        course_id -> Nullable<BigInt>,
        deployment_id -> Text,
        can_manage -> Bool,
        roles -> Text,
        created_at -> BigInt,
        last_seen_at -> BigInt,
        expires_at -> BigInt,
        deep_linking -> Nullable<Text>,
        invite_id -> Nullable<Text>,
    }
}

diesel::table! {
    media_items (id) {
        id -> Text,
        platform_id -> BigInt,
        course_id -> BigInt,
        owner_id -> Nullable<BigInt>,
        kind -> Text,
        title -> Text,
        description -> Text,
        source_url -> Nullable<Text>,
        file_name -> Nullable<Text>,
        content_type -> Nullable<Text>,
        file_size -> Nullable<BigInt>,
        original_name -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
        deleted_at -> Nullable<BigInt>,
        guest_access_enabled -> Bool,
    }
}

diesel::table! {
    guest_links (id) {
        id -> Text,
        media_id -> Text,
        slot -> BigInt,
        seq -> BigInt,
        token_hash -> Text,
        name -> Text,
        click_limit -> Nullable<BigInt>,
        clicks -> BigInt,
        created_at -> BigInt,
        expires_at -> Nullable<BigInt>,
        deleted_at -> Nullable<BigInt>,
        token_sealed -> Nullable<Text>,
    }
}

diesel::table! {
    guest_visits (id) {
        id -> BigInt,
        link_id -> Text,
        name -> Text,
        email -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    guest_sessions (token_hash) {
        token_hash -> Text,
        link_id -> Text,
        visit_id -> BigInt,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    tool_secrets (name) {
        name -> Text,
        value -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    used_registration_tokens (token_hash) {
        token_hash -> Text,
        used_at -> BigInt,
    }
}

diesel::table! {
    admin_login_links (token_hash) {
        token_hash -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    admin_sessions (token_hash) {
        token_hash -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    launch_attempts (id) {
        id -> BigInt,
        platform_id -> Nullable<BigInt>,
        issuer -> Text,
        client_id -> Nullable<Text>,
        deployment_id -> Nullable<Text>,
        stage -> Text,
        error_code -> Nullable<Text>,
        reason -> Nullable<Text>,
        claims -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    file_grants (grant_hash) {
        grant_hash -> Text,
        media_id -> Text,
        session_hash -> Nullable<Text>,
        guest_session_hash -> Nullable<Text>,
        created_at -> BigInt,
        starts_until -> BigInt,
        last_used_at -> BigInt,
        ends_at -> BigInt,
    }
}

diesel::table! {
    room_settings (media_id) {
        media_id -> Text,
        lobby_policy -> Text,
        guests_may_chat -> Bool,
    }
}

diesel::table! {
    room_sessions (id) {
        id -> Text,
        media_id -> Text,
        started_at -> BigInt,
        started_by -> Nullable<BigInt>,
        started_by_name -> Text,
        ended_at -> Nullable<BigInt>,
        ended_by -> Nullable<BigInt>,
        presenting -> Nullable<Text>,
        presented_by -> Nullable<BigInt>,
        playback_playing -> Bool,
        playback_position_ms -> BigInt,
        playback_at_ms -> BigInt,
        chat_seq -> BigInt,
        janus_api -> Nullable<Text>,
        janus_room -> Nullable<BigInt>,
        av_mute_all -> BigInt,
    }
}

diesel::table! {
    room_participants (session_id, user_id) {
        session_id -> Text,
        user_id -> BigInt,
        name -> Text,
        role -> Text,
        joined_at -> BigInt,
        last_seen_at -> BigInt,
        left_at -> Nullable<BigInt>,
        invited -> Bool,
    }
}

diesel::table! {
    invites (id) {
        id -> Text,
        media_id -> Text,
        email -> Text,
        email_key -> Text,
        name -> Text,
        role -> Text,
        token_hash -> Text,
        invited_by -> Nullable<BigInt>,
        invited_by_name -> Text,
        deployment_id -> Text,
        valid_days -> Integer,
        created_at -> BigInt,
        expires_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
        live -> Bool,
        email_status -> Text,
    }
}

diesel::table! {
    invite_access (invite_id) {
        invite_id -> Text,
        bound_session_hash -> Nullable<Text>,
        bound_browser_hash -> Nullable<Text>,
        accepted_at -> Nullable<BigInt>,
        user_id -> Nullable<BigInt>,
        wrong_tries -> Integer,
        wrong_since -> Nullable<BigInt>,
    }
}

diesel::table! {
    lobby_entries (id) {
        id -> Text,
        session_id -> Text,
        guest_session_hash -> Text,
        link_id -> Text,
        name -> Text,
        email -> Text,
        status -> Text,
        reason -> Nullable<Text>,
        waiting_since -> BigInt,
        queued_ms -> BigInt,
        decided_at -> Nullable<BigInt>,
        last_seen_at -> BigInt,
    }
}

diesel::table! {
    chat_messages (session_id, seq) {
        session_id -> Text,
        seq -> BigInt,
        author_name -> Text,
        author_kind -> Text,
        created_at -> BigInt,
        body -> Text,
    }
}

diesel::joinable!(deployments -> platforms (platform_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(sessions -> courses (course_id));
diesel::joinable!(sessions -> platforms (platform_id));
diesel::joinable!(media_items -> courses (course_id));
diesel::joinable!(media_items -> platforms (platform_id));
diesel::joinable!(guest_links -> media_items (media_id));
diesel::joinable!(guest_visits -> guest_links (link_id));
diesel::joinable!(guest_sessions -> guest_links (link_id));
diesel::joinable!(file_grants -> media_items (media_id));
diesel::joinable!(room_sessions -> media_items (media_id));
diesel::joinable!(room_participants -> room_sessions (session_id));
diesel::joinable!(lobby_entries -> room_sessions (session_id));
diesel::joinable!(chat_messages -> room_sessions (session_id));
diesel::table! {
    av_passes (session_id, person) {
        session_id -> Text,
        person -> Text,
        participant_id -> BigInt,
        may_publish -> Bool,
        issued_at -> BigInt,
        barred -> Bool,
        seen -> Bool,
    }
}

diesel::joinable!(av_passes -> room_sessions (session_id));
diesel::joinable!(invites -> media_items (media_id));
diesel::joinable!(sessions -> invites (invite_id));
diesel::joinable!(invite_access -> invites (invite_id));
diesel::allow_tables_to_appear_in_same_query!(
    platforms,
    deployments,
    tool_keys,
    login_states,
    users,
    courses,
    sessions,
    media_items,
    guest_links,
    guest_visits,
    guest_sessions,
    tool_secrets,
    used_registration_tokens,
    admin_login_links,
    admin_sessions,
    launch_attempts,
    file_grants,
    room_settings,
    room_sessions,
    room_participants,
    lobby_entries,
    chat_messages,
    invites,
    invite_access,
    av_passes
);
