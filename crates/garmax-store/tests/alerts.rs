//! Alerts on both engines: one lease holder at a time, one firing alert
//! per kind and subject however many openers race, notifications queued
//! with the state change and delivered once.

mod common;

use garmax_store::alerts::{HostHealth, NewAlert, Recipient};

fn quality_alert(message: &str) -> NewAlert<'_> {
    NewAlert {
        kind: "qualityDrop",
        subject: "all",
        severity: "warning",
        message,
        value: 0.4,
        threshold: 0.6,
    }
}

fn recipients() -> Vec<Recipient> {
    vec![
        Recipient {
            channel: "webhook".into(),
            target: "http://127.0.0.1:9/hook".into(),
        },
        Recipient {
            channel: "email".into(),
            target: "ops@example.com".into(),
        },
    ]
}

#[tokio::test]
async fn a_lease_has_one_holder_until_it_expires() {
    let (_dir, stores) = common::stores().await;
    for (engine, s) in stores {
        assert!(
            s.try_lease("alerts", "a", 1_000, 10_000).await.unwrap(),
            "{engine}"
        );
        assert!(
            !s.try_lease("alerts", "b", 1_000, 10_500).await.unwrap(),
            "{engine}"
        );
        // The holder renews it.
        assert!(
            s.try_lease("alerts", "a", 1_000, 10_900).await.unwrap(),
            "{engine}"
        );
        assert!(
            !s.try_lease("alerts", "b", 1_000, 11_800).await.unwrap(),
            "{engine}"
        );
        // Expired: another process takes it over, and the first one lost it.
        assert!(
            s.try_lease("alerts", "b", 1_000, 11_900).await.unwrap(),
            "{engine}"
        );
        assert!(
            !s.try_lease("alerts", "a", 1_000, 12_000).await.unwrap(),
            "{engine}"
        );
        assert_eq!(s.lease_renewed_at("alerts").await.unwrap(), Some(11_900));
        // Released: free at once.
        s.release_lease("alerts", "b").await.unwrap();
        assert!(
            s.try_lease("alerts", "a", 1_000, 12_100).await.unwrap(),
            "{engine}"
        );
        // Other names are other leases.
        assert!(
            s.try_lease("other", "b", 1_000, 12_100).await.unwrap(),
            "{engine}"
        );
    }
}

#[tokio::test]
async fn racing_openers_open_one_alert_and_queue_its_notifications_once() {
    let (_dir, stores) = common::stores().await;
    for (engine, s) in stores {
        let to = recipients();
        let opened = futures_join(&s, &to).await;
        assert_eq!(opened, 1, "{engine}: one of eight racing openers wins");
        let firing = s.firing_alerts().await.unwrap();
        assert_eq!(firing.len(), 1, "{engine}");
        let due = s.due_deliveries(2_000, 5, 100).await.unwrap();
        assert_eq!(due.len(), 2, "{engine}: one notification per recipient");
        assert!(
            due.iter()
                .all(|(d, a)| d.event == "firing" && a.id == firing[0].id)
        );

        // Delivered once: a second sender's mark does nothing.
        let (webhook, _) = &due[0];
        assert!(s.mark_delivered(&webhook.id, 2_100).await.unwrap());
        assert!(!s.mark_delivered(&webhook.id, 2_200).await.unwrap());
        // A failed try waits for its retry time, then is due again.
        let (email, _) = &due[1];
        s.delivery_failed(&email.id, "connection refused", 5_000)
            .await
            .unwrap();
        assert!(
            s.due_deliveries(4_999, 5, 100).await.unwrap().is_empty(),
            "{engine}"
        );
        let again = s.due_deliveries(5_000, 5, 100).await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].0.attempts, 1);
        assert_eq!(again[0].0.last_error.as_deref(), Some("connection refused"));
        // Out of attempts: no longer due.
        assert!(
            s.due_deliveries(5_000, 1, 100).await.unwrap().is_empty(),
            "{engine}"
        );

        // Resolving is once too, and queues the resolved notifications.
        let id = &firing[0].id;
        assert!(
            s.resolve_alert(id, "back at 70%", &to, 6_000)
                .await
                .unwrap()
        );
        assert!(
            !s.resolve_alert(id, "back at 70%", &to, 6_001)
                .await
                .unwrap()
        );
        assert!(s.firing_alerts().await.unwrap().is_empty());
        let resolved: Vec<_> = s
            .due_deliveries(6_000, 5, 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|(d, _)| d.event == "resolved")
            .collect();
        assert_eq!(resolved.len(), 2, "{engine}");

        // A new episode is a new alert.
        let second = s
            .open_alert(&quality_alert("again"), &to, 7_000)
            .await
            .unwrap()
            .expect("opens after the first resolved");
        assert_ne!(&second.id, id);
        let all = s.list_alerts(None, 50).await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].0.id, second.id, "newest first");
        assert_eq!(all[1].0.state, "resolved");
        assert_eq!(all[1].0.resolved_message.as_deref(), Some("back at 70%"));
        assert_eq!(
            all[1].1.len(),
            4,
            "firing and resolved, two recipients each"
        );
        let only_firing = s.list_alerts(Some("firing"), 50).await.unwrap();
        assert_eq!(only_firing.len(), 1);
        assert_eq!(only_firing[0].0.id, second.id);
    }
}

/// Eight openers at once; how many opened an alert.
async fn futures_join(s: &garmax_store::Store, to: &[Recipient]) -> usize {
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = s.clone();
        let to = to.to_vec();
        tasks.push(tokio::spawn(async move {
            let msg = format!("opener {i}");
            s.open_alert(&quality_alert(&msg), &to, 1_000)
                .await
                .unwrap()
        }));
    }
    let mut opened = 0;
    for t in tasks {
        if t.await.unwrap().is_some() {
            opened += 1;
        }
    }
    opened
}

#[tokio::test]
async fn quality_cost_and_host_readings_are_read_back() {
    let (_dir, stores) = common::stores().await;
    for (engine, s) in stores {
        assert_eq!(s.quality_since(0).await.unwrap(), (None, 0), "{engine}");
        assert_eq!(s.cost_since(0).await.unwrap(), 0.0);
        s.report_host_health(&HostHealth {
            host: "h1".into(),
            cpu_percent: 12.5,
            memory_percent: 40.0,
            updated_at: 100,
        })
        .await
        .unwrap();
        s.report_host_health(&HostHealth {
            host: "h1".into(),
            cpu_percent: 95.0,
            memory_percent: 41.0,
            updated_at: 200,
        })
        .await
        .unwrap();
        let hosts = s.host_health().await.unwrap();
        assert_eq!(hosts.len(), 1, "{engine}");
        assert_eq!((hosts[0].cpu_percent, hosts[0].updated_at), (95.0, 200));
    }
}
