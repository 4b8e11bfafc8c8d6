-- generated from services.json by npm run sync:registry — do not edit
-- One database per service with `"database": true` (each app also keeps its own migration
-- table, so a shared database would work too). Runs once, when the volume is first
-- initialised.
CREATE DATABASE keel_auth;
CREATE DATABASE keel_users;
