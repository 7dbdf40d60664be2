//! Texts of the hosted pages in English and German, and the choice of language:
//! `ui_locales` of the request, then `Accept-Language`, then the tenant's default.

/// Languages the hosted pages speak; the first is the fallback.
pub const LANGUAGES: &[&str] = &["en", "de"];

/// The first supported language among `wanted` (BCP 47 tags, best first).
pub fn choose<'a>(
    wanted: impl IntoIterator<Item = &'a str>,
    fallback: Option<&str>,
) -> &'static str {
    let pick = |tag: &str| {
        let primary = tag
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        LANGUAGES.iter().copied().find(|lang| *lang == primary)
    };
    wanted
        .into_iter()
        .find_map(pick)
        .or_else(|| fallback.and_then(pick))
        .unwrap_or("en")
}

/// The tags of an `Accept-Language` header, by descending quality.
pub fn accept_language(header: &str) -> Vec<&str> {
    let mut tags: Vec<(&str, f32)> = header
        .split(',')
        .take(20)
        .filter_map(|part| {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next()?.trim();
            let quality = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            (!tag.is_empty() && tag != "*" && quality > 0.0).then_some((tag, quality))
        })
        .collect();
    tags.sort_by(|a, b| b.1.total_cmp(&a.1));
    tags.into_iter().map(|(tag, _)| tag).collect()
}

/// The text of `key` in `language`; English when a translation is missing.
pub fn text(language: &str, key: &str) -> &'static str {
    let table = if language == "de" { GERMAN } else { ENGLISH };
    lookup(table, key)
        .or_else(|| lookup(ENGLISH, key))
        .unwrap_or("")
}

/// Every text whose key starts with `prefix` (such as `mail_`), in `language`, keyed as in
/// the English table; English where a translation is missing.
pub fn texts_with_prefix(
    language: &str,
    prefix: &str,
) -> std::collections::BTreeMap<&'static str, &'static str> {
    ENGLISH
        .iter()
        .filter(|(key, _)| key.starts_with(prefix))
        .map(|(key, _)| (*key, text(language, key)))
        .collect()
}

fn lookup(table: &'static [(&str, &'static str)], key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

const ENGLISH: &[(&str, &str)] = &[
    ("sign_in_title", "Sign in"),
    ("sign_in_to", "to continue to"),
    ("email", "Email"),
    ("password", "Password"),
    ("continue", "Continue"),
    ("sign_in", "Sign in"),
    ("not_you", "Use another account"),
    ("bad_credentials", "The email or password is not correct."),
    ("bad_email", "Enter a valid email address."),
    (
        "busy",
        "Too many sign-ins right now. Please try again in a moment.",
    ),
    ("consent_title", "Allow access?"),
    ("consent_intro", "wants to access your account:"),
    ("allow", "Allow"),
    ("deny", "Deny"),
    ("scope_profile", "Your name, language and time zone"),
    ("scope_email", "Your email address"),
    ("scope_phone", "Your phone number"),
    ("scope_address", "Your postal address"),
    (
        "consent_needs",
        "It also receives these details from your profile:",
    ),
    (
        "consent_verified_claims",
        "Your verified identity data (from the identity check)",
    ),
    ("profile_title", "A few more details"),
    ("profile_intro", "needs these details from you:"),
    ("profile_optional", "optional"),
    ("profile_submit", "Continue"),
    ("profile_skip", "Not now"),
    ("profile_required", "Please fill this in."),
    ("profile_bad_date", "Please enter a date as YYYY-MM-DD."),
    ("profile_bad_birthdate", "Please enter a date in the past."),
    (
        "profile_bad_phone",
        "Please enter the number in international format: + and the country code, then the number.",
    ),
    (
        "profile_bad_address",
        "Please enter at least the street, the city and the country.",
    ),
    ("profile_bad_number", "Please enter a number."),
    ("profile_bad_choice", "Please choose one of the options."),
    (
        "profile_bad_text",
        "Please use at most 200 characters on one line.",
    ),
    (
        "profile_failed",
        "Your details could not be saved. Please check them and try again.",
    ),
    (
        "profile_phone_help",
        "We send a code to this number to confirm it.",
    ),
    (
        "try_later",
        "This did not work right now. Please try again in a moment.",
    ),
    (
        "profile_phone_country",
        "We cannot send codes to numbers of this country. Please enter another number.",
    ),
    ("attr_given_name", "Given name"),
    ("attr_family_name", "Family name"),
    ("attr_middle_name", "Middle name"),
    ("attr_nickname", "Nickname"),
    ("attr_name", "Full name"),
    ("attr_birthdate", "Date of birth"),
    ("attr_phone_number", "Mobile phone number"),
    ("attr_address", "Postal address"),
    ("address_street_address", "Street and number"),
    ("address_postal_code", "Postal code"),
    ("address_locality", "City"),
    ("address_region", "State or region"),
    ("address_country", "Country"),
    ("choice_none", "Choose…"),
    ("yes", "Yes"),
    ("no", "No"),
    (
        "scope_offline_access",
        "Stay connected when you are not using it",
    ),
    ("logout_title", "Sign out"),
    ("logout_question", "Do you want to sign out?"),
    ("logout_from", "The application asks to sign you out:"),
    ("sign_out", "Sign out"),
    ("stay", "Stay signed in"),
    ("signed_out", "You have been signed out."),
    ("signed_in", "You are signed in."),
    ("or", "or"),
    ("passkey_sign_in", "Sign in with a passkey"),
    (
        "passkey_failed",
        "The passkey did not work. Try again, or use another way to sign in.",
    ),
    ("passkey_use", "Use your passkey"),
    ("passkey_waiting", "Waiting for your passkey…"),
    ("devices_title", "Trusted browsers"),
    ("factors_title", "Two-step verification"),
    (
        "factors_intro",
        "These confirm it is you after your password, or instead of it (passkeys).",
    ),
    ("factors_passkey", "passkey"),
    ("factors_app", "authenticator app"),
    ("factors_added", "Added {added}"),
    ("factors_used", "last used {used}"),
    ("factors_new_name", "Name"),
    ("factors_rename", "Rename"),
    ("factors_remove", "Remove"),
    ("factors_codes_left", "Recovery codes left: {count}"),
    (
        "factors_sign_in_again",
        "To remove one, sign in again with your second step first (within the last 10 minutes).",
    ),
    ("factors_none", "You have no second step yet."),
    ("factors_add", "Add a passkey or an authenticator app"),
    (
        "devices_intro",
        "On these browsers you chose not to be asked for your second step for a while. Forget one you no longer use, or that is not yours.",
    ),
    ("devices_this_browser", "this browser"),
    ("devices_since", "Trusted since {since}, until {until}"),
    ("devices_forget", "Forget"),
    ("devices_forget_all", "Forget all"),
    ("devices_none", "No browser skips your second step."),
    (
        "passkey_intro",
        "Confirm with your passkey: the fingerprint, face or screen lock of this device or your phone.",
    ),
    (
        "passkey_no_script",
        "This browser cannot use passkeys here (they need JavaScript and WebAuthn). Use a recovery code instead.",
    ),
    ("passkey_setup_title", "Add a passkey"),
    (
        "passkey_setup_intro",
        "A passkey lets you sign in with your fingerprint, face or screen lock, with nothing to type. It stays on your device.",
    ),
    ("passkey_name", "Name for this passkey (optional)"),
    ("passkey_add", "Create a passkey"),
    ("passkey_added", "Your passkey was added."),
    (
        "passkey_bad_name",
        "The name can have at most 64 characters and no control characters.",
    ),
    ("mfa_setup_app_title", "Or use an authenticator app"),
    ("mfa_setup_title_any", "Set up two-step verification"),
    (
        "mfa_setup_intro_any",
        "A second step keeps your account safe even if someone learns your password: a passkey on this device, or an authenticator app on your phone.",
    ),
    ("mfa_title", "Confirm it is you"),
    (
        "mfa_intro",
        "Open your authenticator app and enter the 6-digit code it shows for this account.",
    ),
    ("mfa_code", "Code from the app"),
    ("mfa_use_recovery", "Lost your phone? Use a recovery code"),
    ("mfa_use_app", "Use the authenticator app instead"),
    (
        "mfa_recovery_intro",
        "Enter one of the recovery codes you saved when you set up your authenticator app. Each code works once.",
    ),
    ("mfa_recovery_code", "Recovery code"),
    (
        "mfa_remember",
        "Don't ask again on this browser for {days} days",
    ),
    (
        "mfa_email_intro",
        "To confirm it is you, we email a 6-digit code to {address}.",
    ),
    ("mfa_email_send", "Email me a code"),
    (
        "mfa_cannot_confirm",
        "This sign-in needs an extra confirmation, and your account has no verified email address or authenticator app to give it. Try again from a device you used before, or contact support.",
    ),
    ("mfa_email_sent", "We sent a 6-digit code to {address}."),
    ("mfa_email_code", "Code from the email"),
    ("mfa_email_resend", "Send a new code"),
    (
        "mfa_email_limit",
        "No more codes can be sent for this sign-in. Use the last code, or start signing in again.",
    ),
    (
        "mfa_email_failed",
        "The email could not be sent. Try again in a moment.",
    ),
    (
        "pow_needed",
        "To protect your account, your browser must complete a short check first. Wait until it says it is done, then sign in again.",
    ),
    ("pow_working", "Checking your browser…"),
    (
        "captcha_no_script",
        "This check needs JavaScript. Turn it on for this page, or use another browser.",
    ),
    (
        "captcha_needed",
        "To protect your account, complete the check below, then sign in again.",
    ),
    (
        "captcha_needed_signup",
        "To protect against automated sign-ups, complete the check below, then send the form again.",
    ),
    ("pow_done", "Check complete. You can sign in."),
    (
        "pow_done_signup",
        "Check complete. You can create your account.",
    ),
    (
        "pow_needed_signup",
        "To protect against automated sign-ups, your browser must complete a short check first. Wait until it says it is done, then send the form again.",
    ),
    (
        "pow_no_script",
        "This check needs JavaScript. Turn it on for this page, or try again later.",
    ),
    (
        "mfa_wrong_code",
        "That code is not correct. Check the code and try again.",
    ),
    (
        "mfa_locked",
        "Too many wrong codes. For your security, try again in {minutes} minutes.",
    ),
    (
        "mfa_disabled",
        "Too many wrong codes: this way of confirming is blocked. Contact support to unlock it.",
    ),
    ("mfa_setup_title", "Set up an authenticator app"),
    (
        "mfa_setup_intro",
        "A second step keeps your account safe even if someone learns your password. You need an authenticator app on your phone, such as Google Authenticator, Microsoft Authenticator, 1Password or Aegis.",
    ),
    ("mfa_setup_scan", "Scan this QR code with the app."),
    ("mfa_setup_qr_label", "QR code for your authenticator app"),
    ("mfa_setup_type", "Or type this key into the app:"),
    ("mfa_setup_secret", "Key for the authenticator app"),
    (
        "mfa_setup_open_app",
        "On this phone? Open the authenticator app directly",
    ),
    (
        "mfa_setup_confirm",
        "Enter the 6-digit code the app now shows.",
    ),
    ("mfa_setup_button", "Turn on two-step verification"),
    (
        "mfa_sign_in_again",
        "For your security, sign in again before you add an authenticator app.",
    ),
    ("mfa_added", "The authenticator app is set up."),
    ("mfa_codes_title", "Save your recovery codes"),
    (
        "mfa_codes_intro",
        "If you lose your phone, these codes let you sign in. Print them or keep them in a password manager. Each code works once.",
    ),
    (
        "mfa_codes_once",
        "This is the only time the codes are shown.",
    ),
    ("mfa_codes_saved", "I have saved my codes — continue"),
    ("signup_title", "Create your account"),
    ("signup_submit", "Create account"),
    ("signup_have_account", "Already have an account?"),
    ("signup_link", "Create an account"),
    ("signup_no_account", "New here?"),
    ("given_name", "Given name"),
    ("family_name", "Family name"),
    (
        "signup_password_help",
        "At least 15 characters. A few unrelated words make a strong password.",
    ),
    ("signup_terms_before", "I accept the"),
    ("signup_terms", "terms of service"),
    ("signup_privacy_before", "I have read the"),
    ("signup_privacy", "privacy notice"),
    (
        "signup_domain_refused",
        "Accounts can be created with addresses of certain organisations only.",
    ),
    (
        "signup_weak_password",
        "Choose a longer or less common password: at least 15 characters, not your name or email.",
    ),
    ("signup_accept_terms", "Please accept the terms of service."),
    (
        "signup_accept_privacy",
        "Please confirm that you have read the privacy notice.",
    ),
    ("signup_bad_name", "Names can be at most 200 characters."),
    (
        "signup_too_many",
        "We have sent several codes to this address already. Please wait an hour and try again.",
    ),
    (
        "signup_mail_failed",
        "We could not send the email right now. Please try again in a few minutes.",
    ),
    (
        "signup_unavailable",
        "Accounts cannot be created here. Please ask the service for an invitation.",
    ),
    ("signup_verify_title", "Confirm your email"),
    ("signup_code_sent", "We have sent a 6-digit code to"),
    ("signup_code", "Code"),
    ("signup_resend", "Send a new code"),
    (
        "signup_code_resent",
        "A new code is on its way. The previous one no longer works.",
    ),
    (
        "signup_wrong_code",
        "That code is not correct. Check the latest email and try again.",
    ),
    (
        "signup_expired",
        "This sign-up has expired or was already used. Please start again.",
    ),
    ("signup_start_again", "Start again"),
    (
        "signup_already_registered",
        "This address already has an account. Please sign in.",
    ),
    (
        "signup_confirm_intro",
        "Confirm that this email address is yours to finish creating your account.",
    ),
    ("signup_confirm", "Confirm my email"),
    (
        "signup_confirm_other_browser",
        "This link was opened in another browser than the one where the sign-up started. Choose the password for your account here; then sign in.",
    ),
    (
        "signup_ready_sign_in",
        "Your account is ready. Sign in with your email address and the password you chose.",
    ),
    ("invite_title", "Accept your invitation"),
    ("invite_intro", "Choose a password for your account"),
    ("invite_submit", "Create my account"),
    (
        "invite_expired",
        "This invitation has expired, was withdrawn or was already used. Please ask for a new one.",
    ),
    // Phone verification (`pages::phone`) and its text message (`crate::sms`). SMS texts
    // avoid characters outside the GSM 7-bit alphabet where the language allows, so that a
    // message fits one 160-character part.
    ("phone_verify_title", "Confirm your phone number"),
    (
        "phone_code_sent",
        "We have sent a 6-digit code by text message to",
    ),
    ("phone_code", "Code"),
    ("phone_resend", "Send a new code"),
    (
        "phone_code_resent",
        "A new code is on its way. The previous one no longer works.",
    ),
    (
        "phone_wrong_code",
        "This code is not correct. Check the latest text message and try again. Tries left: {tries}.",
    ),
    (
        "phone_code_expired",
        "This code has expired. Send a new code.",
    ),
    (
        "phone_code_used",
        "This code was already used or a newer one replaced it. Send a new code if you still need one.",
    ),
    (
        "phone_too_many_attempts",
        "Too many wrong codes. Send a new code.",
    ),
    (
        "phone_too_many",
        "We have already sent several codes. Please try again in an hour.",
    ),
    (
        "phone_sms_failed",
        "The text message could not be sent just now. Please try again in a few minutes.",
    ),
    (
        "phone_expired",
        "This phone confirmation was not found. Please go back to the application and try again.",
    ),
    ("phone_verified", "Your phone number is confirmed."),
    (
        "sms_phone_code",
        "Your {tenant} code is {code}. It is valid for {minutes} minutes. Never share it.",
    ),
    // Identity verification (`pages::identity`). `level_*` are the eIDAS assurance levels.
    ("verify_title", "Verify your identity"),
    (
        "verify_intro",
        "needs to confirm your identity before you can continue.",
    ),
    ("verify_provider", "The check is done by"),
    (
        "verify_redirect",
        "You will be taken to their site and brought back here afterwards.",
    ),
    ("verify_level", "Level of assurance needed:"),
    ("level_low", "low"),
    ("level_substantial", "substantial"),
    ("level_high", "high"),
    ("verify_start", "Start verification"),
    (
        "verify_not_configured",
        "This application needs an identity check, but no identity verification service is set up yet. Please contact the application's support.",
    ),
    (
        "verify_start_failed",
        "The identity check could not be started just now. Please try again in a few minutes.",
    ),
    (
        "verify_too_many",
        "You have started several identity checks. Please try again in an hour.",
    ),
    ("verify_waiting_title", "Checking your identity"),
    (
        "verify_waiting",
        "We are waiting for the result of the check. This page refreshes by itself.",
    ),
    ("verify_check_now", "Check again now"),
    (
        "verify_rejected",
        "Your identity could not be verified. You can try again, for example with another document.",
    ),
    (
        "verify_expired",
        "The identity check was not completed in time. Please try again.",
    ),
    (
        "verify_insufficient",
        "The check did not reach the level of assurance this application needs. Please try again.",
    ),
    ("verify_again", "Try again"),
    (
        "verify_done",
        "Your identity is verified. Please return to the application.",
    ),
    (
        "verify_not_found",
        "This identity check was not found. Please go back to the application and try again.",
    ),
    ("error_title", "Something went wrong"),
    (
        "expired",
        "This page has expired. Please go back to the application and try again.",
    ),
    (
        "forbidden",
        "This request could not be verified. Please reload the page and try again.",
    ),
    ("skip", "Skip to content"),
    // Mails (`crate::mail`): `mail_<kind>_subject` is each notice's subject. `{tenant}` and
    // `{minutes}` are filled in by the templates.
    ("mail_sign_up_code_subject", "Your code for {tenant}"),
    (
        "mail_sign_up_code_intro",
        "Enter this code to finish creating your account at {tenant}:",
    ),
    ("mail_sign_up_code_button", "Confirm your email address"),
    ("mail_sign_up_code_link", "Or open this link:"),
    (
        "mail_sign_up_code_valid",
        "The code and the link are valid for {minutes} minutes.",
    ),
    (
        "mail_sign_up_code_ignore",
        "If you did not ask for this, ignore this mail: no account will be created.",
    ),
    (
        "mail_already_registered_subject",
        "You already have an account at {tenant}",
    ),
    (
        "mail_already_registered_intro",
        "Someone, maybe you, tried to create an account at {tenant} with this email address. You already have one.",
    ),
    ("mail_already_registered_button", "Sign in"),
    ("mail_already_registered_link", "Sign in here:"),
    (
        "mail_already_registered_ignore",
        "If it was not you, ignore this mail: nothing about your account has changed.",
    ),
    ("mail_invitation_subject", "You are invited to {tenant}"),
    (
        "mail_invitation_intro",
        "You have been invited to create your account at {tenant}. Choose a password to finish.",
    ),
    ("mail_invitation_button", "Accept the invitation"),
    ("mail_invitation_link", "Accept the invitation here:"),
    (
        "mail_invitation_validity",
        "The invitation is valid for {days} days.",
    ),
    (
        "mail_invitation_ignore",
        "If you do not know why you received it, ignore this mail: no account is created.",
    ),
    (
        "mail_link_fallback",
        "If the button does not work, copy this link into your browser:",
    ),
    (
        "mail_account_locked_subject",
        "Signing in to your {tenant} account is paused",
    ),
    (
        "mail_account_locked_intro",
        "There were several failed attempts to sign in to your account at {tenant}.",
    ),
    (
        "mail_account_locked_paused",
        "To protect your account, signing in is paused for {minutes} minutes.",
    ),
    (
        "mail_account_locked_blocked",
        "To protect your account, this way of signing in is blocked until you reset your password or support unlocks it.",
    ),
    (
        "mail_account_locked_advice",
        "If it was not you, someone may know your email address; your password was not revealed. Choose a strong password and turn on two-step verification.",
    ),
    (
        "mail_security_change_subject",
        "The security settings of your {tenant} account changed",
    ),
    (
        "mail_security_change_authenticator_added",
        "An authenticator app was added to your account at {tenant}.",
    ),
    (
        "mail_security_change_authenticator_removed",
        "An authenticator app was removed from your account at {tenant}.",
    ),
    (
        "mail_security_change_recovery_codes_renewed",
        "New recovery codes were made for your account at {tenant}; the old ones no longer work.",
    ),
    (
        "mail_security_change_not_you",
        "If this was not you, reset your password at once and contact support.",
    ),
    (
        "mail_sign_in_code_subject",
        "Your sign-in code for {tenant}",
    ),
    (
        "mail_sign_in_code_intro",
        "Use this code to finish signing in to {tenant}:",
    ),
    (
        "mail_sign_in_code_valid",
        "The code is valid for {minutes} minutes and works once.",
    ),
    (
        "mail_sign_in_code_ignore",
        "If you are not signing in right now, someone knows your password: change it at once.",
    ),
    (
        "mail_new_device_sign_in_subject",
        "New sign-in to your {tenant} account",
    ),
    (
        "mail_new_device_sign_in_intro",
        "Your account at {tenant} was just signed in to from a browser it was not used with before.",
    ),
    ("mail_new_device_when", "When:"),
    ("mail_new_device_browser", "Browser:"),
    ("mail_new_device_ip", "Network address:"),
    (
        "mail_new_device_not_you",
        "If this was you, there is nothing to do. If not, change your password at once and turn on two-step verification.",
    ),
    (
        "mail_footer",
        "{tenant} sent this mail automatically. Replies are not read.",
    ),
];

const GERMAN: &[(&str, &str)] = &[
    ("sign_in_title", "Anmelden"),
    ("sign_in_to", "um fortzufahren zu"),
    ("email", "E-Mail"),
    ("password", "Passwort"),
    ("continue", "Weiter"),
    ("sign_in", "Anmelden"),
    ("not_you", "Anderes Konto verwenden"),
    (
        "bad_credentials",
        "E-Mail-Adresse oder Passwort ist nicht korrekt.",
    ),
    ("bad_email", "Geben Sie eine gültige E-Mail-Adresse ein."),
    (
        "busy",
        "Gerade melden sich sehr viele an. Bitte versuchen Sie es gleich noch einmal.",
    ),
    ("consent_title", "Zugriff erlauben?"),
    ("consent_intro", "möchte auf Ihr Konto zugreifen:"),
    ("allow", "Erlauben"),
    ("deny", "Ablehnen"),
    ("scope_profile", "Ihr Name, Ihre Sprache und Zeitzone"),
    ("scope_email", "Ihre E-Mail-Adresse"),
    ("scope_phone", "Ihre Telefonnummer"),
    ("scope_address", "Ihre Postanschrift"),
    (
        "consent_needs",
        "Sie erhält außerdem diese Angaben aus Ihrem Profil:",
    ),
    (
        "consent_verified_claims",
        "Ihre geprüften Identitätsdaten (aus der Identitätsprüfung)",
    ),
    ("profile_title", "Noch ein paar Angaben"),
    ("profile_intro", "benötigt diese Angaben von Ihnen:"),
    ("profile_optional", "freiwillig"),
    ("profile_submit", "Weiter"),
    ("profile_skip", "Jetzt nicht"),
    ("profile_required", "Bitte füllen Sie dieses Feld aus."),
    (
        "profile_bad_date",
        "Bitte geben Sie ein Datum als JJJJ-MM-TT ein.",
    ),
    (
        "profile_bad_birthdate",
        "Bitte geben Sie ein Datum in der Vergangenheit ein.",
    ),
    (
        "profile_bad_phone",
        "Bitte geben Sie die Nummer international ein: + und die Landesvorwahl, dann die Nummer.",
    ),
    (
        "profile_bad_address",
        "Bitte geben Sie mindestens Straße, Ort und Land an.",
    ),
    ("profile_bad_number", "Bitte geben Sie eine Zahl ein."),
    (
        "profile_bad_choice",
        "Bitte wählen Sie eine der Möglichkeiten.",
    ),
    (
        "profile_bad_text",
        "Bitte höchstens 200 Zeichen in einer Zeile.",
    ),
    (
        "profile_failed",
        "Ihre Angaben konnten nicht gespeichert werden. Bitte prüfen Sie sie und versuchen Sie es erneut.",
    ),
    (
        "profile_phone_help",
        "Wir senden einen Code an diese Nummer, um sie zu bestätigen.",
    ),
    (
        "try_later",
        "Das hat gerade nicht geklappt. Bitte versuchen Sie es gleich noch einmal.",
    ),
    (
        "profile_phone_country",
        "An Nummern dieses Landes können wir keine Codes senden. Bitte geben Sie eine andere Nummer ein.",
    ),
    ("attr_given_name", "Vorname"),
    ("attr_family_name", "Nachname"),
    ("attr_middle_name", "Zweiter Vorname"),
    ("attr_nickname", "Spitzname"),
    ("attr_name", "Vollständiger Name"),
    ("attr_birthdate", "Geburtsdatum"),
    ("attr_phone_number", "Mobiltelefonnummer"),
    ("attr_address", "Postanschrift"),
    ("address_street_address", "Straße und Hausnummer"),
    ("address_postal_code", "Postleitzahl"),
    ("address_locality", "Ort"),
    ("address_region", "Bundesland oder Region"),
    ("address_country", "Land"),
    ("choice_none", "Bitte wählen…"),
    ("yes", "Ja"),
    ("no", "Nein"),
    (
        "scope_offline_access",
        "Verbunden bleiben, auch wenn Sie die Anwendung nicht nutzen",
    ),
    ("logout_title", "Abmelden"),
    ("logout_question", "Möchten Sie sich abmelden?"),
    ("logout_from", "Die Anwendung möchte Sie abmelden:"),
    ("sign_out", "Abmelden"),
    ("stay", "Angemeldet bleiben"),
    ("signed_out", "Sie wurden abgemeldet."),
    ("signed_in", "Sie sind angemeldet."),
    ("or", "oder"),
    ("passkey_sign_in", "Mit einem Passkey anmelden"),
    (
        "passkey_failed",
        "Der Passkey hat nicht funktioniert. Versuchen Sie es erneut oder melden Sie sich anders an.",
    ),
    ("passkey_use", "Passkey verwenden"),
    ("passkey_waiting", "Warten auf Ihren Passkey…"),
    ("devices_title", "Vertrauenswürdige Browser"),
    ("factors_title", "Bestätigung in zwei Schritten"),
    (
        "factors_intro",
        "Diese bestätigen nach Ihrem Passwort, dass Sie es sind, oder statt seiner (Passkeys).",
    ),
    ("factors_passkey", "Passkey"),
    ("factors_app", "Authenticator-App"),
    ("factors_added", "Hinzugefügt {added}"),
    ("factors_used", "zuletzt verwendet {used}"),
    ("factors_new_name", "Name"),
    ("factors_rename", "Umbenennen"),
    ("factors_remove", "Entfernen"),
    (
        "factors_codes_left",
        "Verbleibende Wiederherstellungscodes: {count}",
    ),
    (
        "factors_sign_in_again",
        "Um einen zu entfernen, melden Sie sich zuerst erneut mit Ihrem zweiten Schritt an (innerhalb der letzten 10 Minuten).",
    ),
    ("factors_none", "Sie haben noch keinen zweiten Schritt."),
    (
        "factors_add",
        "Einen Passkey oder eine Authenticator-App hinzufügen",
    ),
    (
        "devices_intro",
        "In diesen Browsern haben Sie gewählt, eine Zeit lang nicht nach dem zweiten Schritt gefragt zu werden. Vergessen Sie einen, den Sie nicht mehr nutzen oder der nicht Ihnen gehört.",
    ),
    ("devices_this_browser", "dieser Browser"),
    ("devices_since", "Vertraut seit {since}, bis {until}"),
    ("devices_forget", "Vergessen"),
    ("devices_forget_all", "Alle vergessen"),
    (
        "devices_none",
        "Kein Browser überspringt Ihren zweiten Schritt.",
    ),
    (
        "passkey_intro",
        "Bestätigen Sie mit Ihrem Passkey: Fingerabdruck, Gesicht oder Bildschirmsperre dieses Geräts oder Ihres Telefons.",
    ),
    (
        "passkey_no_script",
        "Dieser Browser kann hier keine Passkeys verwenden (sie brauchen JavaScript und WebAuthn). Verwenden Sie stattdessen einen Wiederherstellungscode.",
    ),
    ("passkey_setup_title", "Passkey hinzufügen"),
    (
        "passkey_setup_intro",
        "Mit einem Passkey melden Sie sich per Fingerabdruck, Gesicht oder Bildschirmsperre an, ohne etwas einzutippen. Er bleibt auf Ihrem Gerät.",
    ),
    ("passkey_name", "Name für diesen Passkey (optional)"),
    ("passkey_add", "Passkey erstellen"),
    ("passkey_added", "Ihr Passkey wurde hinzugefügt."),
    (
        "passkey_bad_name",
        "Der Name darf höchstens 64 Zeichen und keine Steuerzeichen enthalten.",
    ),
    (
        "mfa_setup_app_title",
        "Oder eine Authenticator-App verwenden",
    ),
    (
        "mfa_setup_title_any",
        "Bestätigung in zwei Schritten einrichten",
    ),
    (
        "mfa_setup_intro_any",
        "Ein zweiter Schritt schützt Ihr Konto, selbst wenn jemand Ihr Passwort erfährt: ein Passkey auf diesem Gerät oder eine Authenticator-App auf Ihrem Telefon.",
    ),
    ("mfa_title", "Bestätigen Sie, dass Sie es sind"),
    (
        "mfa_intro",
        "Öffnen Sie Ihre Authenticator-App und geben Sie den 6-stelligen Code ein, den sie für dieses Konto anzeigt.",
    ),
    ("mfa_code", "Code aus der App"),
    (
        "mfa_use_recovery",
        "Telefon verloren? Einen Wiederherstellungscode verwenden",
    ),
    ("mfa_use_app", "Stattdessen die Authenticator-App verwenden"),
    (
        "mfa_recovery_intro",
        "Geben Sie einen der Wiederherstellungscodes ein, die Sie beim Einrichten Ihrer Authenticator-App gespeichert haben. Jeder Code gilt einmal.",
    ),
    ("mfa_recovery_code", "Wiederherstellungscode"),
    (
        "mfa_remember",
        "In diesem Browser {days} Tage lang nicht mehr fragen",
    ),
    (
        "mfa_email_intro",
        "Zur Bestätigung senden wir einen 6-stelligen Code an {address}.",
    ),
    ("mfa_email_send", "Code per E-Mail senden"),
    (
        "mfa_cannot_confirm",
        "Diese Anmeldung braucht eine zusätzliche Bestätigung, und Ihr Konto hat dafür weder eine bestätigte E-Mail-Adresse noch eine Authenticator-App. Versuchen Sie es von einem bekannten Gerät aus oder wenden Sie sich an den Support.",
    ),
    (
        "mfa_email_sent",
        "Wir haben einen 6-stelligen Code an {address} gesendet.",
    ),
    ("mfa_email_code", "Code aus der E-Mail"),
    ("mfa_email_resend", "Neuen Code senden"),
    (
        "mfa_email_limit",
        "Für diese Anmeldung können keine weiteren Codes gesendet werden. Verwenden Sie den letzten Code oder melden Sie sich neu an.",
    ),
    (
        "mfa_email_failed",
        "Die E-Mail konnte nicht gesendet werden. Versuchen Sie es gleich noch einmal.",
    ),
    (
        "pow_needed",
        "Zum Schutz Ihres Kontos muss Ihr Browser zuerst eine kurze Prüfung abschließen. Warten Sie, bis sie fertig ist, und melden Sie sich dann erneut an.",
    ),
    ("pow_working", "Ihr Browser wird geprüft …"),
    (
        "captcha_no_script",
        "Diese Prüfung braucht JavaScript. Schalten Sie es für diese Seite ein oder verwenden Sie einen anderen Browser.",
    ),
    (
        "captcha_needed",
        "Zum Schutz Ihres Kontos schließen Sie bitte die Prüfung unten ab und melden Sie sich dann erneut an.",
    ),
    (
        "captcha_needed_signup",
        "Zum Schutz vor automatischen Registrierungen schließen Sie bitte die Prüfung unten ab und senden Sie das Formular dann erneut.",
    ),
    (
        "pow_done",
        "Prüfung abgeschlossen. Sie können sich anmelden.",
    ),
    (
        "pow_done_signup",
        "Prüfung abgeschlossen. Sie können Ihr Konto anlegen.",
    ),
    (
        "pow_needed_signup",
        "Zum Schutz vor automatischen Registrierungen muss Ihr Browser zuerst eine kurze Prüfung abschließen. Warten Sie, bis sie fertig ist, und senden Sie das Formular dann erneut.",
    ),
    (
        "pow_no_script",
        "Diese Prüfung braucht JavaScript. Schalten Sie es für diese Seite ein oder versuchen Sie es später erneut.",
    ),
    (
        "mfa_wrong_code",
        "Dieser Code ist nicht richtig. Prüfen Sie ihn und versuchen Sie es erneut.",
    ),
    (
        "mfa_locked",
        "Zu viele falsche Codes. Versuchen Sie es zu Ihrer Sicherheit in {minutes} Minuten erneut.",
    ),
    (
        "mfa_disabled",
        "Zu viele falsche Codes: Diese Art der Bestätigung ist gesperrt. Wenden Sie sich an den Support.",
    ),
    ("mfa_setup_title", "Authenticator-App einrichten"),
    (
        "mfa_setup_intro",
        "Ein zweiter Schritt schützt Ihr Konto, selbst wenn jemand Ihr Passwort erfährt. Sie brauchen eine Authenticator-App auf Ihrem Telefon, etwa Google Authenticator, Microsoft Authenticator, 1Password oder Aegis.",
    ),
    ("mfa_setup_scan", "Scannen Sie diesen QR-Code mit der App."),
    ("mfa_setup_qr_label", "QR-Code für Ihre Authenticator-App"),
    (
        "mfa_setup_type",
        "Oder geben Sie diesen Schlüssel in die App ein:",
    ),
    ("mfa_setup_secret", "Schlüssel für die Authenticator-App"),
    (
        "mfa_setup_open_app",
        "Auf diesem Telefon? Die Authenticator-App direkt öffnen",
    ),
    (
        "mfa_setup_confirm",
        "Geben Sie den 6-stelligen Code ein, den die App jetzt anzeigt.",
    ),
    (
        "mfa_setup_button",
        "Bestätigung in zwei Schritten einschalten",
    ),
    (
        "mfa_sign_in_again",
        "Melden Sie sich zu Ihrer Sicherheit erneut an, bevor Sie eine Authenticator-App hinzufügen.",
    ),
    ("mfa_added", "Die Authenticator-App ist eingerichtet."),
    (
        "mfa_codes_title",
        "Speichern Sie Ihre Wiederherstellungscodes",
    ),
    (
        "mfa_codes_intro",
        "Wenn Sie Ihr Telefon verlieren, können Sie sich mit diesen Codes anmelden. Drucken Sie sie aus oder bewahren Sie sie in einem Passwort-Manager auf. Jeder Code gilt einmal.",
    ),
    (
        "mfa_codes_once",
        "Die Codes werden nur dieses eine Mal angezeigt.",
    ),
    (
        "mfa_codes_saved",
        "Ich habe meine Codes gespeichert – weiter",
    ),
    ("signup_title", "Konto erstellen"),
    ("signup_submit", "Konto erstellen"),
    ("signup_have_account", "Sie haben bereits ein Konto?"),
    ("signup_link", "Konto erstellen"),
    ("signup_no_account", "Neu hier?"),
    ("given_name", "Vorname"),
    ("family_name", "Nachname"),
    (
        "signup_password_help",
        "Mindestens 15 Zeichen. Einige unzusammenhängende Wörter ergeben ein starkes Passwort.",
    ),
    ("signup_terms_before", "Ich akzeptiere die"),
    ("signup_terms", "Nutzungsbedingungen"),
    ("signup_privacy_before", "Ich habe die"),
    ("signup_privacy", "Datenschutzhinweise gelesen"),
    (
        "signup_domain_refused",
        "Konten können nur mit Adressen bestimmter Organisationen erstellt werden.",
    ),
    (
        "signup_weak_password",
        "Wählen Sie ein längeres oder weniger verbreitetes Passwort: mindestens 15 Zeichen, nicht Ihr Name oder Ihre E-Mail-Adresse.",
    ),
    (
        "signup_accept_terms",
        "Bitte akzeptieren Sie die Nutzungsbedingungen.",
    ),
    (
        "signup_accept_privacy",
        "Bitte bestätigen Sie, dass Sie die Datenschutzhinweise gelesen haben.",
    ),
    (
        "signup_bad_name",
        "Namen dürfen höchstens 200 Zeichen lang sein.",
    ),
    (
        "signup_too_many",
        "Wir haben bereits mehrere Codes an diese Adresse gesendet. Bitte versuchen Sie es in einer Stunde erneut.",
    ),
    (
        "signup_mail_failed",
        "Die E-Mail konnte gerade nicht gesendet werden. Bitte versuchen Sie es in einigen Minuten erneut.",
    ),
    (
        "signup_unavailable",
        "Hier können keine Konten erstellt werden. Bitten Sie den Dienst um eine Einladung.",
    ),
    ("signup_verify_title", "E-Mail-Adresse bestätigen"),
    (
        "signup_code_sent",
        "Wir haben einen 6-stelligen Code gesendet an",
    ),
    ("signup_code", "Code"),
    ("signup_resend", "Neuen Code senden"),
    (
        "signup_code_resent",
        "Ein neuer Code ist unterwegs. Der vorherige gilt nicht mehr.",
    ),
    (
        "signup_wrong_code",
        "Dieser Code ist nicht richtig. Prüfen Sie die neueste E-Mail und versuchen Sie es erneut.",
    ),
    (
        "signup_expired",
        "Diese Registrierung ist abgelaufen oder wurde bereits verwendet. Bitte beginnen Sie neu.",
    ),
    ("signup_start_again", "Neu beginnen"),
    (
        "signup_already_registered",
        "Für diese Adresse gibt es bereits ein Konto. Bitte melden Sie sich an.",
    ),
    (
        "signup_confirm_intro",
        "Bestätigen Sie, dass diese E-Mail-Adresse Ihnen gehört, um Ihr Konto fertig zu erstellen.",
    ),
    ("signup_confirm", "E-Mail-Adresse bestätigen"),
    (
        "signup_confirm_other_browser",
        "Dieser Link wurde in einem anderen Browser geöffnet als dem, in dem die Registrierung begann. Wählen Sie hier das Passwort für Ihr Konto und melden Sie sich dann an.",
    ),
    (
        "signup_ready_sign_in",
        "Ihr Konto ist bereit. Melden Sie sich mit Ihrer E-Mail-Adresse und dem gewählten Passwort an.",
    ),
    ("invite_title", "Einladung annehmen"),
    ("invite_intro", "Wählen Sie ein Passwort für Ihr Konto"),
    ("invite_submit", "Mein Konto anlegen"),
    (
        "invite_expired",
        "Diese Einladung ist abgelaufen, wurde zurückgezogen oder bereits verwendet. Bitte fordern Sie eine neue an.",
    ),
    ("phone_verify_title", "Telefonnummer bestätigen"),
    (
        "phone_code_sent",
        "Wir haben per SMS einen 6-stelligen Code gesendet an",
    ),
    ("phone_code", "Code"),
    ("phone_resend", "Neuen Code senden"),
    (
        "phone_code_resent",
        "Ein neuer Code ist unterwegs. Der vorherige gilt nicht mehr.",
    ),
    (
        "phone_wrong_code",
        "Dieser Code ist nicht richtig. Prüfen Sie die neueste SMS und versuchen Sie es erneut. Verbleibende Versuche: {tries}.",
    ),
    (
        "phone_code_expired",
        "Dieser Code ist abgelaufen. Fordern Sie einen neuen an.",
    ),
    (
        "phone_code_used",
        "Dieser Code wurde bereits verwendet oder durch einen neueren ersetzt. Fordern Sie bei Bedarf einen neuen an.",
    ),
    (
        "phone_too_many_attempts",
        "Zu viele falsche Codes. Fordern Sie einen neuen an.",
    ),
    (
        "phone_too_many",
        "Wir haben bereits mehrere Codes gesendet. Bitte versuchen Sie es in einer Stunde erneut.",
    ),
    (
        "phone_sms_failed",
        "Die SMS konnte gerade nicht gesendet werden. Bitte versuchen Sie es in einigen Minuten erneut.",
    ),
    (
        "phone_expired",
        "Diese Bestätigung wurde nicht gefunden. Bitte kehren Sie zur Anwendung zurück und versuchen Sie es erneut.",
    ),
    ("phone_verified", "Ihre Telefonnummer ist bestätigt."),
    (
        "sms_phone_code",
        "Ihr {tenant}-Code lautet {code}. Er gilt {minutes} Minuten. Geben Sie ihn nicht weiter.",
    ),
    ("verify_title", "Identität bestätigen"),
    (
        "verify_intro",
        "muss Ihre Identität bestätigen, bevor Sie fortfahren können.",
    ),
    ("verify_provider", "Die Prüfung übernimmt"),
    (
        "verify_redirect",
        "Sie werden dorthin weitergeleitet und danach hierher zurückgebracht.",
    ),
    ("verify_level", "Erforderliches Vertrauensniveau:"),
    ("level_low", "niedrig"),
    ("level_substantial", "substanziell"),
    ("level_high", "hoch"),
    ("verify_start", "Prüfung starten"),
    (
        "verify_not_configured",
        "Diese Anwendung benötigt eine Identitätsprüfung, aber es ist noch kein Prüfdienst eingerichtet. Bitte wenden Sie sich an den Support der Anwendung.",
    ),
    (
        "verify_start_failed",
        "Die Identitätsprüfung konnte gerade nicht gestartet werden. Bitte versuchen Sie es in einigen Minuten erneut.",
    ),
    (
        "verify_too_many",
        "Sie haben bereits mehrere Identitätsprüfungen gestartet. Bitte versuchen Sie es in einer Stunde erneut.",
    ),
    ("verify_waiting_title", "Ihre Identität wird geprüft"),
    (
        "verify_waiting",
        "Wir warten auf das Ergebnis der Prüfung. Diese Seite aktualisiert sich von selbst.",
    ),
    ("verify_check_now", "Jetzt erneut prüfen"),
    (
        "verify_rejected",
        "Ihre Identität konnte nicht bestätigt werden. Sie können es erneut versuchen, zum Beispiel mit einem anderen Dokument.",
    ),
    (
        "verify_expired",
        "Die Identitätsprüfung wurde nicht rechtzeitig abgeschlossen. Bitte versuchen Sie es erneut.",
    ),
    (
        "verify_insufficient",
        "Die Prüfung hat das Vertrauensniveau, das diese Anwendung benötigt, nicht erreicht. Bitte versuchen Sie es erneut.",
    ),
    ("verify_again", "Erneut versuchen"),
    (
        "verify_done",
        "Ihre Identität ist bestätigt. Bitte kehren Sie zur Anwendung zurück.",
    ),
    (
        "verify_not_found",
        "Diese Identitätsprüfung wurde nicht gefunden. Bitte kehren Sie zur Anwendung zurück und versuchen Sie es erneut.",
    ),
    ("error_title", "Etwas ist schiefgelaufen"),
    (
        "expired",
        "Diese Seite ist abgelaufen. Bitte kehren Sie zur Anwendung zurück und versuchen Sie es erneut.",
    ),
    (
        "forbidden",
        "Die Anfrage konnte nicht geprüft werden. Bitte laden Sie die Seite neu und versuchen Sie es erneut.",
    ),
    ("skip", "Zum Inhalt springen"),
    ("mail_sign_up_code_subject", "Ihr Code für {tenant}"),
    (
        "mail_sign_up_code_intro",
        "Mit diesem Code schließen Sie die Registrierung bei {tenant} ab:",
    ),
    ("mail_sign_up_code_button", "E-Mail-Adresse bestätigen"),
    ("mail_sign_up_code_link", "Oder öffnen Sie diesen Link:"),
    (
        "mail_sign_up_code_valid",
        "Code und Link sind {minutes} Minuten gültig.",
    ),
    (
        "mail_sign_up_code_ignore",
        "Wenn Sie das nicht angefordert haben, ignorieren Sie diese E-Mail: Es wird kein Konto angelegt.",
    ),
    (
        "mail_already_registered_subject",
        "Sie haben bereits ein Konto bei {tenant}",
    ),
    (
        "mail_already_registered_intro",
        "Jemand, vielleicht Sie, wollte mit dieser E-Mail-Adresse ein Konto bei {tenant} anlegen. Sie haben bereits eines.",
    ),
    ("mail_already_registered_button", "Anmelden"),
    ("mail_already_registered_link", "Hier melden Sie sich an:"),
    (
        "mail_already_registered_ignore",
        "Wenn Sie das nicht waren, ignorieren Sie diese E-Mail: An Ihrem Konto hat sich nichts geändert.",
    ),
    ("mail_invitation_subject", "Sie sind zu {tenant} eingeladen"),
    (
        "mail_invitation_intro",
        "Sie wurden eingeladen, Ihr Konto bei {tenant} anzulegen. Wählen Sie ein Passwort, um abzuschließen.",
    ),
    ("mail_invitation_button", "Einladung annehmen"),
    ("mail_invitation_link", "Hier nehmen Sie die Einladung an:"),
    (
        "mail_invitation_validity",
        "Die Einladung gilt {days} Tage.",
    ),
    (
        "mail_invitation_ignore",
        "Wenn Sie nicht wissen, warum Sie sie erhalten haben, ignorieren Sie diese E-Mail: Es wird kein Konto angelegt.",
    ),
    (
        "mail_link_fallback",
        "Falls die Schaltfläche nicht funktioniert, kopieren Sie diesen Link in Ihren Browser:",
    ),
    (
        "mail_account_locked_subject",
        "Die Anmeldung bei Ihrem Konto bei {tenant} ist pausiert",
    ),
    (
        "mail_account_locked_intro",
        "Es gab mehrere fehlgeschlagene Versuche, sich bei Ihrem Konto bei {tenant} anzumelden.",
    ),
    (
        "mail_account_locked_paused",
        "Zum Schutz Ihres Kontos ist die Anmeldung für {minutes} Minuten pausiert.",
    ),
    (
        "mail_account_locked_blocked",
        "Zum Schutz Ihres Kontos ist diese Art der Anmeldung gesperrt, bis Sie Ihr Passwort zurücksetzen oder der Support sie entsperrt.",
    ),
    (
        "mail_account_locked_advice",
        "Falls Sie es nicht waren, kennt jemand Ihre E-Mail-Adresse; Ihr Passwort wurde nicht preisgegeben. Wählen Sie ein starkes Passwort und schalten Sie die Bestätigung in zwei Schritten ein.",
    ),
    (
        "mail_security_change_subject",
        "Die Sicherheitseinstellungen Ihres Kontos bei {tenant} wurden geändert",
    ),
    (
        "mail_security_change_authenticator_added",
        "Zu Ihrem Konto bei {tenant} wurde eine Authenticator-App hinzugefügt.",
    ),
    (
        "mail_security_change_authenticator_removed",
        "Von Ihrem Konto bei {tenant} wurde eine Authenticator-App entfernt.",
    ),
    (
        "mail_security_change_recovery_codes_renewed",
        "Für Ihr Konto bei {tenant} wurden neue Wiederherstellungscodes erstellt; die alten gelten nicht mehr.",
    ),
    (
        "mail_security_change_not_you",
        "Falls Sie das nicht waren, setzen Sie sofort Ihr Passwort zurück und wenden Sie sich an den Support.",
    ),
    ("mail_sign_in_code_subject", "Ihr Anmeldecode für {tenant}"),
    (
        "mail_sign_in_code_intro",
        "Mit diesem Code schließen Sie die Anmeldung bei {tenant} ab:",
    ),
    (
        "mail_sign_in_code_valid",
        "Der Code ist {minutes} Minuten gültig und funktioniert einmal.",
    ),
    (
        "mail_sign_in_code_ignore",
        "Wenn Sie sich gerade nicht anmelden, kennt jemand Ihr Passwort: Ändern Sie es sofort.",
    ),
    (
        "mail_new_device_sign_in_subject",
        "Neue Anmeldung bei Ihrem Konto bei {tenant}",
    ),
    (
        "mail_new_device_sign_in_intro",
        "Bei Ihrem Konto bei {tenant} hat sich gerade jemand mit einem Browser angemeldet, der bisher nicht verwendet wurde.",
    ),
    ("mail_new_device_when", "Wann:"),
    ("mail_new_device_browser", "Browser:"),
    ("mail_new_device_ip", "Netzwerkadresse:"),
    (
        "mail_new_device_not_you",
        "Wenn Sie das waren, ist nichts zu tun. Wenn nicht, ändern Sie sofort Ihr Passwort und schalten Sie die Bestätigung in zwei Schritten ein.",
    ),
    (
        "mail_footer",
        "{tenant} hat diese E-Mail automatisch versendet. Antworten werden nicht gelesen.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_locales_then_accept_language_then_default() {
        assert_eq!(choose(["fr", "de-CH"], None), "de");
        assert_eq!(
            choose(accept_language("fr;q=0.9, de;q=0.8, en;q=0.1"), None),
            "de"
        );
        assert_eq!(choose([], Some("de")), "de");
        assert_eq!(choose(["xx"], None), "en");
    }

    #[test]
    fn every_german_key_exists_in_english() {
        for (key, _) in GERMAN {
            assert!(lookup(ENGLISH, key).is_some(), "{key}");
        }
        assert_eq!(ENGLISH.len(), GERMAN.len());
    }
}
