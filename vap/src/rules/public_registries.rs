//! `public-registries`: every image of a runner pod, container or image volume, comes from a
//! registry in `allowedRegistries`; a reference that cannot be read is denied.

use policy::request::image;
use policy::rule_name::RuleName;

use crate::cel::{bind, bind_value, get, get_path, list, lit, re};

use super::Builder;
use super::items::Items;

const RULE: RuleName = RuleName::PublicRegistries;

/// Whether image reference `i` (a non-empty string) parses as `image::ImageRef::parse` reads it.
fn image_valid(b: &Builder<'_>) -> (String, String, String) {
    let p = b.private;
    let digest = "(?:@(?:sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}))?";
    let tag = format!(
        "(?::[A-Za-z0-9_][A-Za-z0-9_.-]{{0,{}}})?",
        p.image_tag_max.saturating_sub(1)
    );
    let component = "[a-z0-9]+(?:(?:[.]|_|__|-+)[a-z0-9]+)*";
    // A first component followed by more is the registry when it has `.` (or `:`, or an
    // uppercase letter, which no component allows); `localhost` is both.
    let no_dot = "[a-z0-9]+(?:(?:_|__|-+)[a-z0-9]+)*";
    let label = "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?";
    let registry = format!("(?:{label}(?:[.]{label})*|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]+)?");
    let full = format!(
        "^(?:{registry}/{component}(?:/{component})*|{no_dot}(?:/{component})+|{component}){tag}{digest}$"
    );
    // The repository name (without tag and digest) is at most NAME_MAX characters.
    let length = format!("^[^@]{{0,{}}}{tag}(?:@[^@]*)?$", p.image_name_max);
    // A bare 64-hex name is an image ID, not a repository.
    let id = format!("^[0-9a-f]{{64}}{tag}(?:@.*)?$");
    (full, length, id)
}

pub fn build(b: &mut Builder<'_>) {
    let s = b.settings;
    // Normalised when the settings were read.
    let mut allowed: Vec<String> = s.allowed_registries.clone();
    let listed = if allowed.is_empty() {
        "none".to_owned()
    } else {
        allowed.join(", ")
    };
    // The CEL folds case; Docker Hub's other names are accepted where docker.io is.
    if allowed.iter().any(|r| r == image::DOCKER_HUB) {
        allowed.extend(b.private.docker_hub_aliases.iter().cloned());
    }
    let (full, length, id) = image_valid(b);
    let first = "i.split('/')[0]";
    let registry = format!(
        "(i.contains('/') && ({first}.matches('[.:A-Z]') || {first} == 'localhost') ? {first}.lowerAscii() : {})",
        lit(image::DOCKER_HUB)
    );
    let valid = format!(
        "(i.matches({}) && i.matches({}) && !i.matches({}))",
        re(&full),
        re(&length),
        re(&id)
    );
    let bad = format!("!({valid} && {registry} in {})", list(&allowed));
    let what = format!(
        "({valid} ? 'image `' + i + '` comes from registry ' + {registry} + {} : 'image `' + i + '` is not a valid image reference, so its registry cannot be checked against allowedRegistries ({listed}); write it as [registry/]repository[:tag][@digest]')",
        lit(&format!(
            ", which is not in allowedRegistries ({listed}); use an image from an allowed registry (an image without a registry is docker.io), or add the registry to allowedRegistries"
        ))
    );
    // Containers, then image volumes (Kubernetes 1.31+), as the module reports them.
    for (part, items, var, image, place) in [
        (
            "container images",
            "variables.containers",
            "c",
            get("c", "image", "''"),
            "'container \"' + (has(c.name) ? c.name : '') + '\" of '",
        ),
        (
            "volume images",
            "variables.volumes",
            "v",
            get_path("v", &["image", "reference"], "''"),
            "'volume \"' + (has(v.name) ? v.name : '') + '\" of '",
        ),
    ] {
        let images = Items::new(items, var, bind("i", &image, &format!("i != '' && {bad}")));
        b.item_validation(
            RULE,
            part,
            "variables.runnersPod",
            &images,
            &bind_value(
                "i",
                &image,
                &format!("{place} + variables.subject + ': ' + {what}"),
            ),
        );
    }
}
