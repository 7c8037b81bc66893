// The pages' one stylesheet and one script, served from /assets/ so the
// Content-Security-Policy can forbid inline code. Plain browser JavaScript, no
// build step and no framework: forms post JSON to the API on this origin and
// show its errors as readable messages next to the field they concern.

export const PAGES_STYLE = `
*,*::before,*::after{box-sizing:border-box}
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#57606a;--bg:#f4f6f8;--card:#fff;--line:#d0d7de;--accent:#1f5fbf;--accent-fg:#fff;--error:#b42318;--ok:#116329}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9da7b3;--bg:#0d1117;--card:#161b22;--line:#30363d;--accent:#4d8ee8;--accent-fg:#0d1117;--error:#ff7b72;--ok:#56d364}}
html{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
body{margin:0;min-height:100vh;display:flex;align-items:flex-start;justify-content:center;padding:2rem 1rem}
.card{width:100%;max-width:26rem;background:var(--card);border:1px solid var(--line);border-radius:12px;padding:2rem 1.5rem}
@media (max-width:30rem){body{padding:0}.card{border-radius:0;border-width:0;min-height:100vh}}
h1{font-size:1.5rem;margin:0 0 1.25rem}
h2{font-size:1.1rem;margin:1.75rem 0 .5rem}
.field{margin:0 0 1rem}
label{display:block;font-weight:600;margin:0 0 .25rem}
input,textarea{width:100%;font:inherit;color:inherit;background:transparent;padding:.6rem .7rem;border:1px solid var(--line);border-radius:8px}
textarea{font-family:ui-monospace,monospace;font-size:.8rem;word-break:break-all}
input[aria-invalid=true]{border-color:var(--error)}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
button,.button{display:inline-block;font:inherit;font-weight:600;text-align:center;text-decoration:none;cursor:pointer;padding:.65rem 1rem;border-radius:8px;border:1px solid var(--accent);background:var(--accent);color:var(--accent-fg)}
form button[type=submit]{width:100%}
button.secondary,.button.secondary{background:transparent;color:var(--fg);border-color:var(--line)}
button[disabled]{opacity:.6;cursor:progress}
.providers{display:grid;gap:.5rem;margin:0 0 1rem}
.providers .button{width:100%}
.divider{text-align:center;color:var(--muted);margin:.5rem 0 0}
.hint{color:var(--muted);font-size:.9rem;margin:0 0 .25rem}
.field-error{color:var(--error);font-size:.9rem;margin:.25rem 0 0}
.field-error:empty{display:none}
.form-error,.form-status{border-radius:8px;padding:.6rem .8rem;margin:0 0 1rem}
.form-error{color:var(--error);border:1px solid var(--error)}
.form-status{color:var(--ok);border:1px solid var(--ok)}
[hidden]{display:none!important}
.links{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.5rem;margin:1.25rem 0 0}
a{color:var(--accent)}
.profile{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;margin:0}
.profile dt{font-weight:600}.profile dd{margin:0;overflow-wrap:anywhere}
.badge{white-space:nowrap;font-size:.8rem;border:1px solid var(--line);border-radius:999px;padding:0 .5rem;color:var(--muted)}
.sessions{padding-left:1.2rem;margin:0 0 1rem}
.actions{display:flex;flex-wrap:wrap;gap:.5rem}
`;

export const PAGES_SCRIPT = `'use strict';
(function () {
  var MESSAGES = {
    INVALID_EMAIL_OR_PASSWORD: 'That email and password do not match an account.',
    USER_ALREADY_EXISTS: 'An account with this email already exists. Sign in instead.',
    USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL: 'An account with this email already exists. Sign in instead.',
    EMAIL_NOT_VERIFIED: 'Verify your email first: open the link we sent you.',
    RATE_LIMITED: 'Too many attempts. Wait a little and try again.',
    INVALID_TOKEN: 'This link is invalid, already used or expired. Ask for a new one.',
    TOKEN_EXPIRED: 'This link has expired. Ask for a new one.',
    PASSWORD_TOO_SHORT: 'The password is too short.',
    PASSWORD_TOO_LONG: 'The password is too long.',
    DATABASE_UNAVAILABLE: 'We cannot reach our database right now. Try again in a few seconds.',
    INVALID_ORIGIN: 'This page may not call the API from here.',
    UNAUTHORIZED: 'Your session has ended. Sign in again.',
    NETWORK: 'We could not reach the server. Check your connection and try again.'
  };
  var FIELD_LABELS = { email: 'email', password: 'password', name: 'name', newPassword: 'password' };
  // VALIDATION_ERROR messages start with the field: "email must be a valid email address".
  var FIELD_OF = { email: 'email', password: 'password', name: 'name', newPassword: 'password' };

  function api(method, path, body) {
    var init = { method: method, credentials: 'same-origin', headers: {} };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        return { ok: response.ok, status: response.status, data: data };
      });
    }, function () {
      return { ok: false, status: 0, data: { code: 'NETWORK' } };
    });
  }

  function readable(data) {
    if (data && MESSAGES[data.code]) return MESSAGES[data.code];
    if (data && typeof data.message === 'string' && data.message) return data.message;
    return 'Something went wrong. Try again.';
  }

  function $(root, selector) { return root.querySelector(selector); }

  // A used token has no business in the address bar or the history.
  function forgetToken() {
    window.history.replaceState(null, '', window.location.pathname);
  }

  function show(element, text) {
    if (!element) return;
    element.textContent = text;
    element.hidden = !text;
  }

  function clearErrors(form) {
    show($(form, '[data-form-error]'), '');
    show($(form, '[data-form-status]'), '');
    var inputs = form.querySelectorAll('input');
    for (var i = 0; i < inputs.length; i++) {
      inputs[i].removeAttribute('aria-invalid');
      var error = document.getElementById(inputs[i].id + '-error');
      if (error) error.textContent = '';
    }
  }

  function fieldError(form, id, text) {
    var input = document.getElementById(id);
    var error = document.getElementById(id + '-error');
    if (!input || !error || !form.contains(input)) return false;
    input.setAttribute('aria-invalid', 'true');
    error.textContent = text;
    return true;
  }

  function formError(form, data) {
    var text = readable(data);
    if (data && data.code === 'VALIDATION_ERROR' && typeof data.message === 'string') {
      var field = FIELD_OF[data.message.split(' ')[0]];
      if (field && fieldError(form, field, data.message.replace(/^\\S+/, 'The ' + FIELD_LABELS[field]))) {
        document.getElementById(field).focus();
        return;
      }
    }
    var box = $(form, '[data-form-error]');
    show(box, text);
    box.focus();
  }

  function status(root, text) {
    var box = $(root, '[data-form-status]');
    show(box, text);
    box.focus();
  }

  // Checks in the browser first, with the same limits as the API.
  function checkFields(form) {
    var inputs = form.querySelectorAll('input');
    var first = null;
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      var label = form.querySelector('label[for="' + input.id + '"]').textContent;
      var text = '';
      if (input.validity.valueMissing) text = 'Enter your ' + label.toLowerCase() + '.';
      else if (input.validity.typeMismatch) text = 'Enter a valid email address, like name@example.com.';
      else if (input.validity.tooShort) text = label + ' must be at least ' + input.minLength + ' characters.';
      else if (input.validity.tooLong) text = label + ' must be at most ' + input.maxLength + ' characters.';
      if (text) {
        fieldError(form, input.id, text);
        if (!first) first = input;
      }
    }
    if (first) first.focus();
    return !first;
  }

  function value(form, id) { return form.elements.namedItem(id).value; }

  function busy(form, on) {
    var button = $(form, 'button[type=submit]');
    if (button) button.disabled = on;
    form.setAttribute('aria-busy', on ? 'true' : 'false');
  }

  var SUBMIT = {
    'sign-in': function (form) {
      return api('POST', '/api/auth/sign-in/email', { email: value(form, 'email'), password: value(form, 'password') })
        .then(function (result) {
          if (!result.ok) return formError(form, result.data);
          window.location.assign(form.dataset.redirect || '/account');
        });
    },
    'sign-up': function (form) {
      var body = { name: value(form, 'name'), email: value(form, 'email'), password: value(form, 'password') };
      return api('POST', '/api/auth/sign-up/email', body).then(function (result) {
        if (!result.ok) return formError(form, result.data);
        if (result.data && result.data.token) return window.location.assign(form.dataset.redirect || '/account');
        status(form, 'Almost done: we sent a link to ' + body.email + '. Open it to verify your email, then sign in.');
        form.reset();
      });
    },
    'forgot-password': function (form) {
      var email = value(form, 'email');
      return api('POST', '/api/auth/request-password-reset', { email: email }).then(function (result) {
        if (!result.ok) return formError(form, result.data);
        status(form, 'If an account exists for ' + email + ', we sent it a link to choose a new password. It works for an hour.');
      });
    },
    'reset-password': function (form) {
      if (value(form, 'password') !== value(form, 'confirm')) {
        fieldError(form, 'confirm', 'The two passwords are not the same.');
        document.getElementById('confirm').focus();
        return Promise.resolve();
      }
      var body = { token: form.dataset.token, newPassword: value(form, 'password') };
      return api('POST', '/api/auth/reset-password', body).then(function (result) {
        if (!result.ok) return formError(form, result.data);
        form.hidden = true;
        var done = document.createElement('div');
        done.className = 'form-status';
        done.setAttribute('role', 'status');
        done.setAttribute('tabindex', '-1');
        done.textContent = 'Your password is changed, and every session of your account is signed out. ';
        var link = document.createElement('a');
        link.href = '/login';
        link.textContent = 'Sign in with the new password';
        done.appendChild(link);
        form.parentNode.insertBefore(done, form);
        done.focus();
        forgetToken();
      });
    }
  };

  function setUpForm(form) {
    var submit = SUBMIT[form.dataset.form];
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      clearErrors(form);
      if (!checkFields(form)) return;
      busy(form, true);
      submit(form).then(function () { busy(form, false); }, function () {
        busy(form, false);
        formError(form, null);
      });
    });
  }

  function verifyEmail(root) {
    var token = root.dataset.token;
    if (!token) return;
    var progress = $(root, '[data-verify-progress]');
    api('GET', '/api/auth/verify-email?token=' + encodeURIComponent(token)).then(function (result) {
      show(progress, '');
      if (!result.ok) {
        var box = $(root, '[data-form-error]');
        show(box, readable(result.data));
        return box.focus();
      }
      status(root, 'Thank you: your email is verified.');
      forgetToken();
    });
  }

  function account(root) {
    api('GET', '/api/auth/session').then(function (result) {
      if (result.ok && !result.data) return window.location.replace('/login?redirect=%2Faccount');
      if (!result.ok) {
        root.hidden = false;
        return show($(root, '[data-form-error]'), readable(result.data));
      }
      var user = result.data.user;
      var current = result.data.session;
      $(root, '[data-user-name]').textContent = user.name;
      $(root, '[data-user-email]').textContent = user.email;
      $(root, '[data-user-verified]').textContent = user.emailVerified ? 'verified' : 'not verified';
      $(root, '[data-unverified]').hidden = !!user.emailVerified;
      root.hidden = false;
      api('GET', '/api/auth/list-sessions').then(function (list) {
        var target = $(root, '[data-sessions]');
        if (!list.ok || !Array.isArray(list.data)) return;
        target.textContent = '';
        list.data.forEach(function (session) {
          var item = document.createElement('li');
          var when = new Date(session.createdAt).toLocaleString();
          item.textContent = 'Signed in ' + when + (session.userAgent ? ' · ' + session.userAgent.slice(0, 60) : '') +
            (session.id === current.id ? ' (this browser)' : '');
          target.appendChild(item);
        });
      });
      root.addEventListener('click', function (event) {
        var button = event.target.closest('button[data-action]');
        if (!button) return;
        var action = button.dataset.action;
        if (action === 'sign-out') {
          api('POST', '/api/auth/sign-out', {}).then(function (r) {
            if (!r.ok) return show($(root, '[data-form-error]'), readable(r.data));
            window.location.assign('/login');
          });
        } else if (action === 'revoke-others') {
          api('POST', '/api/auth/revoke-other-sessions', {}).then(function (r) {
            if (!r.ok) return show($(root, '[data-form-error]'), readable(r.data));
            status(root, 'Your other sessions are signed out.');
          });
        } else if (action === 'get-token') {
          api('GET', '/api/auth/token').then(function (r) {
            if (!r.ok) return show($(root, '[data-form-error]'), readable(r.data));
            $(root, '[data-token-box]').hidden = false;
            var box = document.getElementById('token');
            box.value = r.data.token;
            box.focus();
            box.select();
          });
        } else if (action === 'copy-token') {
          var token = document.getElementById('token').value;
          navigator.clipboard.writeText(token).then(function () { status(root, 'Token copied.'); }, function () {
            document.getElementById('token').select();
            status(root, 'Select the token and copy it with your keyboard.');
          });
        } else if (action === 'send-verification') {
          api('POST', '/api/auth/send-verification-email', { email: user.email }).then(function (r) {
            if (!r.ok) return show($(root, '[data-form-error]'), readable(r.data));
            status(root, 'We sent a new link to ' + user.email + '.');
          });
        }
      });
    });
  }

  function start() {
    var forms = document.querySelectorAll('form[data-form]');
    for (var i = 0; i < forms.length; i++) setUpForm(forms[i]);
    var verify = document.querySelector('[data-verify-email]');
    if (verify) verifyEmail(verify);
    var accountRoot = document.querySelector('[data-account]');
    if (accountRoot) account(accountRoot);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
`;
