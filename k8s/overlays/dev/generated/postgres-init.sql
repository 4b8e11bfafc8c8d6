-- One database per service (each app also keeps its own migration table, so a shared
-- database would work too). Runs once, when the volume is first initialised.
CREATE DATABASE keel_auth;
CREATE DATABASE keel_users;
