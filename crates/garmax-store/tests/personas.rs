//! Catalogue personas, pose references, the one-time seeding marker and
//! enhanced generations on both engines.

mod common;

use std::collections::BTreeMap;

use garmax_store::StoreError;
use garmax_store::generations::NewGeneration;
use garmax_store::personas::PersonaInput;
use garmax_store::queue::NewJob;
use garmax_store::sessions::NewSession;
use garmax_store::users::Role;
use serde_json::json;

fn johny() -> PersonaInput {
    let mut c = BTreeMap::new();
    c.insert(
        "physique".to_string(),
        "athletic build, broad shoulders".to_string(),
    );
    PersonaInput {
        id: "johny".into(),
        name: "Johny".into(),
        characteristics: c,
        poses: vec![
            "Arms Crossed".into(),
            "Contrapposto".into(),
            "Hands in Pockets".into(),
        ],
        consistency_threshold: 0.75,
    }
}

#[tokio::test]
async fn personas_round_trip_and_poses_keep_their_references() {
    let (_dir, stores) = common::stores().await;
    for (engine, s) in stores {
        let p = s.create_persona(&johny()).await.unwrap();
        assert_eq!(p.poses.len(), 3, "{engine}");
        assert_eq!(p.consistency_threshold, 0.75);
        assert!(matches!(
            s.create_persona(&johny()).await,
            Err(StoreError::Conflict(_))
        ));
        let mut bad = johny();
        bad.poses.push("arms crossed".into());
        assert!(matches!(
            s.create_persona(&bad).await,
            Err(StoreError::Invalid(_))
        ));

        let avatar = garmax_store::new_id();
        s.set_pose_reference(
            "johny",
            "ARMS CROSSED",
            &avatar,
            &NewJob::new("avatar", json!({"avatarId": avatar})),
        )
        .await
        .unwrap();
        let a = s.avatar_by_id(&avatar).await.unwrap();
        assert_eq!(a.user_id, garmax_store::personas::CATALOGUE_USER);
        assert!(matches!(
            s.set_pose_reference(
                "johny",
                "Handstand",
                &garmax_store::new_id(),
                &NewJob::new("avatar", json!({}))
            )
            .await,
            Err(StoreError::NotFound)
        ));

        // Replacing the poses keeps the reference of the one that stays.
        let mut next = johny();
        next.poses = vec!["Contrapposto".into(), "Arms Crossed".into()];
        next.name = "Johnny".into();
        let p = s.update_persona(&next).await.unwrap();
        assert_eq!(p.name, "Johnny");
        assert_eq!(p.poses[1].name, "Arms Crossed");
        assert_eq!(
            p.poses[1].avatar_id.as_deref(),
            Some(avatar.as_str()),
            "{engine}"
        );
        assert_eq!(
            p.pose("arms crossed").unwrap().avatar_id,
            p.poses[1].avatar_id
        );
        assert!(p.poses[0].avatar_id.is_none());
        assert_eq!(s.list_personas().await.unwrap().len(), 1);

        s.delete_persona("johny").await.unwrap();
        assert!(matches!(
            s.persona("johny").await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            s.delete_persona("johny").await,
            Err(StoreError::NotFound)
        ));

        assert!(s.claim_marker("personas-seeded").await.unwrap());
        assert!(
            !s.claim_marker("personas-seeded").await.unwrap(),
            "{engine}"
        );
    }
}

#[tokio::test]
async fn a_generation_is_a_session_with_its_request_and_response() {
    let (_dir, stores) = common::stores().await;
    for (engine, s) in stores {
        let user = s
            .create_user("brand", Role::User, "pro", 0)
            .await
            .unwrap()
            .user;
        let other = s
            .create_user("other", Role::User, "pro", 0)
            .await
            .unwrap()
            .user;
        let avatar = garmax_store::new_id();
        s.create_avatar(&avatar, &user.id, &NewJob::new("avatar", json!({})))
            .await
            .unwrap();
        let garment = garmax_store::new_id();
        let id = garmax_store::new_id();
        let analysis = json!({"garmentType": "tshirt"});
        s.create_generation(
            &garment,
            &NewSession {
                id: &id,
                user_id: &user.id,
                avatar_id: &avatar,
                garment_id: &garment,
                quality: "hd",
                tier: "premium",
                credits: 0,
            },
            &NewGeneration {
                model_id: Some("johny"),
                pose: Some("Arms Crossed"),
                enable_retry: true,
                max_retries: 3,
                product_analysis: Some(&analysis),
                prompts: &json!({}),
                ab_test_id: None,
                ab_variant: Some("Control"),
            },
            &NewJob::new("enhanced", json!({"sessionId": id})),
        )
        .await
        .unwrap();
        let g = s.generation(&user.id, &id).await.unwrap();
        assert_eq!(
            (g.tier.as_str(), g.max_retries, g.enable_retry),
            ("premium", 3, true),
            "{engine}"
        );
        assert_eq!(g.product_analysis, Some(analysis.clone()));
        assert!(g.response.is_none());
        assert!(matches!(
            s.generation(&other.id, &id).await,
            Err(StoreError::NotFound)
        ));
        let session = s.session(&user.id, &id).await.unwrap();
        assert_eq!(session.garment_id, garment);
        assert_eq!(
            s.garment(&user.id, &garment).await.unwrap().analysis,
            json!({})
        );

        let t = s.start_generation(&id).await.unwrap();
        assert_eq!(
            s.start_generation(&id).await.unwrap(),
            t,
            "kept across retries"
        );
        s.set_garment_analysis(
            &garment,
            &analysis,
            &["image".into(), "garment.json".into()],
        )
        .await
        .unwrap();
        assert_eq!(s.garment(&user.id, &garment).await.unwrap().files.len(), 2);
        s.set_generation_prompts(&id, &json!({"stage1": "x"}))
            .await
            .unwrap();
        let body = json!({"success": false, "error": {"code": "RET_003"}});
        s.finish_generation(&id, &body, Some("RET_003"), t + 5)
            .await
            .unwrap();
        let g = s.generation_by_id(&id).await.unwrap();
        assert_eq!(g.response, Some(body));
        assert_eq!(
            (g.error_code.as_deref(), g.finished_at),
            (Some("RET_003"), Some(t + 5))
        );
        assert_eq!(g.prompts["stage1"], "x");
    }
}
