//! What a removed lab must not leave behind: any container, network or volume labelled
//! with its name. Shared by the integration tests as `#[path]` module or through `common`.

use spirelab::engine::Engine;

/// Fails unless the engine holds no container, network or volume of lab `lab`.
pub async fn assert_nothing_left(engine: &Engine, lab: &str) {
    let containers = engine.list_containers(Some(lab)).await.unwrap();
    let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
    assert!(
        names.is_empty(),
        "containers of lab {lab} left behind: {names:?}"
    );
    let networks = engine.list_networks(Some(lab)).await.unwrap();
    assert!(
        networks.is_empty(),
        "networks of lab {lab} left behind: {networks:?}"
    );
    let volumes = engine.list_volumes(Some(lab)).await.unwrap();
    assert!(
        volumes.is_empty(),
        "volumes of lab {lab} left behind: {volumes:?}"
    );
}
