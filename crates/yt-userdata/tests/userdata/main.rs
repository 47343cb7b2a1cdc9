//! Every behaviour of the user database, run once against a fresh SQLite file and once
//! against a fresh PostgreSQL database (`yt_testkit::Postgres`).

mod support;

mod accounts;
mod connect;
mod history;
mod seeding;
