DROP TABLE chat_messages;
DROP TABLE lobby_entries;
DROP TABLE room_participants;
DROP TABLE room_sessions;
DROP TABLE room_settings;
