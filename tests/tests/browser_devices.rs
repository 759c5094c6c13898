//! A removable disk the helper found, chosen on a burning page of another
//! origin: the page may not write to it until the person allows it on the
//! helper's own page. The page asks ("Ask to use this drive"), the own page
//! (a second browser, as the person at the computer) shows "ORIGIN wants to
//! write to WEBBURN EMULATED DISK 4 MB. Everything on it will be erased."
//! with Allow and Refuse, the person allows it, and the page then writes
//! the image, equal byte for byte. A refused request leaves Burn off.

#![allow(clippy::unwrap_used)] // a test: a failed step is a failed test

use std::time::Duration;

use webburn_tests::browser::{Browser, www_dir_for};
use webburn_tests::served::Helper;
use webburn_tests::{every_engine, image, pattern};

const LONG: Duration = Duration::from_secs(60);

every_engine! {
async fn a_found_disk_is_written_after_the_person_allows_it_on_the_helpers_page(engine) {
    let www = www_dir_for(engine);
    // The burning page comes from another origin: a second helper serves it.
    let site = {
        let www = www.clone();
        Helper::start(&[], move |c| c.www = Some(www)).await
    };
    let page_origin = site.own_origin();
    let helper = {
        let (www, origin) = (www.clone(), page_origin.clone());
        Helper::start(&[",profile=disk,capacity=4MiB,ask"], move |c| {
            c.www = Some(www);
            c.allowed_origins = vec![origin];
        })
        .await
    };
    let page = Browser::start_in(engine).await;
    page.open_page(&format!("{page_origin}/?helper={}", helper.own_origin()), LONG)
        .await;
    page.wait_for("the request for approval", LONG, || async {
        page.attr("ask-device", "data-approval").await.as_deref() == Some("needed")
    })
    .await;
    let data = pattern(1 << 20, 4);
    let file = helper.dir.path().join("raspios.img");
    std::fs::write(&file, &data).unwrap();
    page.type_into("file", &file.to_string_lossy()).await;
    assert_eq!(
        page.attr("burn", "disabled").await.as_deref(),
        Some("true"),
        "Burn stays off until the person allows the drive"
    );
    let person = Browser::start_in(engine).await;
    person.goto(&helper.server.own_url()).await;
    person.wait_state("connected", LONG).await;
    // Refused first: the page says so and Burn stays off.
    page.click("ask").await;
    let text = || async {
        person
            .eval("const l = document.querySelector('#device-list li'); return l ? l.innerText : ''")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    person
        .wait_for("the device request on the helper's page", LONG, || async {
            text().await.contains("wants to write")
        })
        .await;
    let shown = text().await;
    assert!(
        shown.contains(&format!("{page_origin} wants to write to WEBBURN EMULATED DISK 4 MB: everything on it will be erased.")),
        "{shown}"
    );
    let code = page.text("ask-text").await;
    let code = code.split("code ").nth(1).unwrap_or_default().trim_end_matches('.');
    assert!(shown.contains(code) && code.len() == 6, "the same code on both: {code:?} {shown}");
    person.eval("document.querySelector('#device-list .deny-device').click()").await;
    page.wait_for("the refusal", LONG, || async {
        page.attr("ask-device", "data-approval").await.as_deref() == Some("needed")
            && page.text("ask-text").await.contains("did not allow")
    })
    .await;
    assert_eq!(page.attr("burn", "disabled").await.as_deref(), Some("true"));
    // Asked again and allowed.
    page.click("ask").await;
    person
        .wait_for("the second request", LONG, || async { text().await.contains("wants to write") })
        .await;
    person.eval("document.querySelector('#device-list .allow-device').click()").await;
    page.wait_for("the approval", LONG, || async {
        page.attr("burn", "disabled").await.is_none()
    })
    .await;
    assert!(page.text("log").await.contains("the helper allowed"));
    page.click_burn().await;
    assert_eq!(page.result(LONG).await, "S_OK", "{}", page.text("result").await);
    let disk = image(&helper.images[0]);
    assert!(disk[..data.len()] == data[..], "the disk holds the image");
}
}
