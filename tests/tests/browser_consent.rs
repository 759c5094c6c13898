//! A paired site's burning page erases a disc only after the person allows
//! it on the helper, in Chromium, Firefox and WebKit: the page says it
//! waits and shows the code, the person's browser on the helper's own page
//! shows "SITE wants to erase the CD-RW in ..." with the same code;
//! refused, nothing happens to the disc; allowed, the erase runs.

#![allow(clippy::unwrap_used)] // a test: a failed step is a failed test

use std::time::Duration;

use serde_json::json;
use webburn_tests::browser::{Browser, www_dir_for};
use webburn_tests::served::Helper;
use webburn_tests::{every_engine, image, pattern};

const LONG: Duration = Duration::from_secs(60);

every_engine! {
async fn a_site_erases_a_disc_only_once_the_person_allows_it(engine) {
    let www = www_dir_for(engine);
    // The burning page comes from another origin: a second helper serves it.
    let site = {
        let www = www.clone();
        Helper::start(&[], move |c| c.www = Some(www)).await
    };
    let site_origin = site.own_origin();
    let helper = {
        let www = www.clone();
        Helper::start(&[",profile=cd-rw,capacity=1MiB"], move |c| c.www = Some(www)).await
    };
    let cd = helper.recorders[0].clone();
    let data = pattern(256 << 10, 12);
    let mut own = helper.session().await;
    let burned = own
        .burn_with(1, &cd, 0, &data, json!({"disc": {"verification": 0}}))
        .await;
    assert_eq!(burned.hresult(), webburn_shared::HResult::S_OK);
    let page = Browser::start_in(engine).await;
    page.goto(&format!("{site_origin}/?helper={}", helper.own_origin())).await;
    page.wait_state("pairingPending", LONG).await;
    helper
        .server
        .state
        .pairing
        .approve(&helper.pairing_code(&site_origin))
        .unwrap();
    page.wait_state("connected", LONG).await;
    page.wait_recorders(LONG).await;
    let person = Browser::start_in(engine).await;
    person.goto(&helper.server.own_url()).await;
    person.wait_state("connected", LONG).await;
    let requests = || async {
        person
            .eval("const l = document.querySelector('#device-list li'); return l ? l.innerText : ''")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let erase = || async {
        page.wait_for("the erase button", LONG, || async {
            page.attr("erase-disc", "hidden").await.is_none()
        })
        .await;
        page.click("erase").await;
        page.click("erase-yes").await;
        page.wait_for("the page to say it waits", LONG, || async {
            page.attr("consent", "hidden").await.is_none()
        })
        .await;
        let waiting = page.text("consent").await;
        assert!(waiting.contains("may erase the disc"), "{waiting}");
        let code = page.attr("consent", "data-code").await.unwrap_or_default();
        person
            .wait_for("the request on the helper's page", LONG, || async {
                requests().await.contains(&code)
            })
            .await;
        let shown = requests().await;
        assert!(
            shown.contains(&format!("{site_origin} wants to erase the CD-RW in WEBBURN"))
                && shown.contains("everything on it will be erased"),
            "{shown}"
        );
    };
    // Refused: the page says so and the disc keeps its burn.
    erase().await;
    person.eval("document.querySelector('#device-list .deny-device').click()").await;
    let refused = page.result(LONG).await;
    assert_eq!(refused, "E_ACCESSDENIED", "{}", page.text("result").await);
    assert!(image(&helper.images[0])[..data.len()] == data[..]);
    page.eval("document.getElementById('result').removeAttribute('data-hresult')").await;
    // Allowed: the erase runs.
    erase().await;
    person.eval("document.querySelector('#device-list .allow-device').click()").await;
    assert_eq!(page.result(LONG).await, "S_OK", "{}", page.text("result").await);
    assert!(page.text("result").await.contains("blank again"));
    assert!(image(&helper.images[0]).is_empty(), "the CD-RW is blank");
}
}
