//! Accounts: migrations, creation, login, lookup and removal with everything it owns.

use yt_userdata::{Database, NewSubscription, NewUser, UserId};

use crate::{
    on_both_backends,
    support::{TestDb, Videos, at, user},
};

async fn migrating_again_is_a_no_op(t: &TestDb) {
    let alice = user(&t.db, "alice@example.com").await;

    t.db.migrate().await.unwrap();
    let second = Database::connect(&t.url).await.unwrap();
    second.migrate().await.unwrap();

    assert_eq!(second.user_by_id(alice.id).await.unwrap(), Some(alice));
    assert_eq!(second.backend(), t.db.backend());
    second.ping().await.unwrap();
}

async fn login_needs_the_right_password_and_ignores_email_case(t: &TestDb) {
    let new = NewUser {
        email: "  Mixed.Case@Example.COM ",
        display_name: Some("Mixed Case"),
        avatar_url: Some("https://example.com/a.png"),
        password: "s3cret-Pässword",
    };
    let created = t.db.create_user(new).await.unwrap();
    assert_eq!(created.email, "mixed.case@example.com");
    assert_eq!(created.display_name.as_deref(), Some("Mixed Case"));

    let login =
        t.db.verify_login("mixed.case@example.com", "s3cret-Pässword")
            .await
            .unwrap();
    assert_eq!(login.as_ref(), Some(&created));
    let shouted =
        t.db.verify_login("MIXED.CASE@EXAMPLE.COM", "s3cret-Pässword")
            .await
            .unwrap();
    assert_eq!(shouted, Some(created.clone()));

    let wrong =
        t.db.verify_login("mixed.case@example.com", "s3cret-password")
            .await
            .unwrap();
    assert_eq!(wrong, None);
    let unknown =
        t.db.verify_login("nobody@example.com", "s3cret-Pässword")
            .await
            .unwrap();
    assert_eq!(unknown, None);
}

async fn an_email_is_taken_in_any_case(t: &TestDb) {
    user(&t.db, "taken@example.com").await;

    let again = NewUser {
        email: "TAKEN@example.com",
        display_name: None,
        avatar_url: None,
        password: "x",
    };
    let error = t.db.create_user(again).await.unwrap_err();

    assert!(error.is_unique_violation(), "{error}");
    assert!(!error.is_transient());
}

async fn users_are_found_by_id_and_email_with_utc_times(t: &TestDb) {
    let before = yt_userdata::now();
    let created = user(&t.db, "found@example.com").await;

    let by_id = t.db.user_by_id(created.id).await.unwrap().unwrap();
    let by_email =
        t.db.user_by_email("Found@Example.com")
            .await
            .unwrap()
            .unwrap();

    assert_eq!(by_id, created);
    assert_eq!(by_email, created);
    assert!(by_id.created_at >= before && by_id.created_at == by_id.updated_at);
    assert_eq!(
        t.db.user_by_id(UserId(created.id.0 + 1000)).await.unwrap(),
        None
    );
    assert_eq!(t.db.user_by_email("lost@example.com").await.unwrap(), None);
}

async fn deleting_a_user_removes_their_data_only(t: &TestDb) {
    let gone = user(&t.db, "gone@example.com").await;
    let kept = user(&t.db, "kept@example.com").await;
    let videos = Videos::numbered("x", 25);
    let channel = NewSubscription {
        channel_id: "UCaaaaaaaaaaaaaaaaaaaaaa",
        channel_title: "Kept and gone",
        channel_custom_url: None,
        active: true,
        added_at: at(0),
    };
    for id in [gone.id, kept.id] {
        t.db.add_watched_videos(id, &videos.rows()).await.unwrap();
        t.db.add_subscriptions(id, &[channel]).await.unwrap();
    }

    t.db.delete_user(gone.id).await.unwrap();

    assert_eq!(t.db.user_by_id(gone.id).await.unwrap(), None);
    let left = t.db.counts(gone.id).await.unwrap();
    assert_eq!((left.subscriptions, left.watched_videos), (0, 0));
    assert!(
        t.db.watched_page(gone.id, 0, 100)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let kept_counts = t.db.counts(kept.id).await.unwrap();
    assert_eq!(
        (kept_counts.subscriptions, kept_counts.watched_videos),
        (1, 25)
    );
    assert_eq!(
        t.db.verify_login("gone@example.com", "pw-123456")
            .await
            .unwrap(),
        None
    );
}

on_both_backends!(
    migrating_again_is_a_no_op,
    login_needs_the_right_password_and_ignores_email_case,
    an_email_is_taken_in_any_case,
    users_are_found_by_id_and_email_with_utc_times,
    deleting_a_user_removes_their_data_only,
);
