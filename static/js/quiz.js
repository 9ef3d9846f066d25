// The quiz page: saves each answer as it is given and keeps it in this browser until the server
// acknowledges it, shows the answered count, confirms a submit with empty or unsaved answers, and
// shows the server's deadline. Without this script the quiz still works: the form posts everything.
// Configuration comes from data- attributes (no inline script, so a strict CSP can apply).
(function () {
  "use strict";

  // --- local buffer: answers the server has not acknowledged, in localStorage ---------------------
  // Keys are "trainer-answer:<attempt>:<position>:<seq>"; only the newest seq per question is kept.
  function createAnswerBuffer(attemptId) {
    var prefix = "trainer-answer:" + attemptId + ":";
    var maxAgeMs = 14 * 24 * 3600 * 1000;  // an attempt is long closed by then
    var memory = {};  // used when localStorage is unavailable (disabled, full): lost on reload, but no worse
    var store = null;
    try {
      store = window.localStorage;
      store.setItem("trainer-answer-probe", "1");
      store.removeItem("trainer-answer-probe");
    } catch (e) { store = null; }

    function keys() {
      if (!store) return Object.keys(memory);
      var found = [];
      for (var i = 0; i < store.length; i++) found.push(store.key(i));
      return found;
    }
    function read(key) {
      var raw = store ? store.getItem(key) : memory[key];
      try { return raw ? JSON.parse(raw) : null; } catch (e) { return null; }
    }
    function remove(key) { if (store) store.removeItem(key); else delete memory[key]; }
    function parse(key) {  // -> {position, seq} for this attempt's keys, else null
      if (key.indexOf(prefix) !== 0) return null;
      var parts = key.slice(prefix.length).split(":");
      return {position: Number(parts[0]), seq: Number(parts[1])};
    }

    // Forget old entries of any attempt, so a shared computer does not keep answers for ever.
    keys().forEach(function (key) {
      if (key.indexOf("trainer-answer:") !== 0) return;
      var entry = read(key);
      if (!entry || Date.now() - entry.at > maxAgeMs) remove(key);
    });

    return {
      put: function (position, seq, fields) {
        var value = JSON.stringify({fields: fields, at: Date.now()});
        try {
          if (store) store.setItem(prefix + position + ":" + seq, value); else memory[prefix + position + ":" + seq] = value;
        } catch (e) { memory[prefix + position + ":" + seq] = value; }
        this.forget(position, seq - 1);
      },
      // Drop this question's entries up to and including seq (the server holds that one or a newer one).
      forget: function (position, seq) {
        keys().forEach(function (key) {
          var k = parse(key);
          if (k && k.position === Number(position) && k.seq <= seq) remove(key);
        });
      },
      forgetAll: function () {
        keys().forEach(function (key) { if (parse(key)) remove(key); });
      },
      // The newest entry per question: {position: {seq, fields}}.
      newest: function () {
        var found = {};
        keys().forEach(function (key) {
          var k = parse(key);
          if (!k || (found[k.position] && found[k.position].seq > k.seq)) return;
          var entry = read(key);
          if (entry) found[k.position] = {seq: k.seq, fields: entry.fields};
        });
        return found;
      }
    };
  }

  // --- save client: one answer per question in flight; retries until the server answers -----------
  // Each question's state moves Saving → Saved, or → "Not saved, retrying" with retries that back off
  // (1 s, 2 s, 4 s … capped at 30 s) and never stop while the page is open.
  function createSaveClient(options) {
    var saveUrl = options.saveUrl, buffer = options.buffer, onState = options.onState;
    var csrf = options.csrf;
    var questions = {};  // position -> {seq, fields (the newest answer), sending, failures, timer, state}
    var requestTimeoutMs = 20000;
    var maxWaitMs = 30000;

    function question(position) {
      if (!questions[position]) questions[position] = {seq: 0, sending: false, failures: 0, timer: null, state: "idle"};
      return questions[position];
    }
    function setState(position, state, text) {
      question(position).state = state;
      onState(position, state, text);
    }
    function scheduleRetry(position, text) {
      var q = question(position);
      var wait = Math.min(maxWaitMs, 1000 * Math.pow(2, q.failures));
      q.failures += 1;
      setState(position, "retrying", text || "Not saved, retrying…");
      clearTimeout(q.timer);
      q.timer = setTimeout(function () { q.timer = null; send(position); }, wait);
    }
    function post(position, seq, fields) {
      var body = new URLSearchParams();
      fields.forEach(function (pair) { body.append(pair[0], pair[1]); });
      body.append("seq", String(seq));
      body.append("csrf_token", csrf);
      var controller = window.AbortController ? new AbortController() : null;
      var timeout = setTimeout(function () { if (controller) controller.abort(); }, requestTimeoutMs);
      return fetch(saveUrl + position, {
        method: "POST", body: body, credentials: "same-origin", signal: controller ? controller.signal : undefined,
        headers: {"X-Requested-With": "fetch", "Accept": "application/json"}
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          return {status: response.status, data: data};
        });
      }).finally(function () { clearTimeout(timeout); });
    }
    // A page opened before the session changed carries a stale CSRF token: read the current one.
    function refreshCsrf() {
      return fetch(window.location.pathname, {credentials: "same-origin"}).then(function (response) {
        if (!response.ok || response.redirected) return false;
        return response.text().then(function (html) {
          var input = new DOMParser().parseFromString(html, "text/html").querySelector("#quiz-form input[name=csrf_token]");
          if (!input) return false;
          csrf = input.value;
          options.onCsrf(csrf);
          return true;
        });
      }).catch(function () { return false; });
    }

    function send(position) {
      var q = question(position);
      if (q.sending || q.timer || q.seq === 0) return;
      var seq = q.seq, fields = q.fields;
      q.sending = true;
      setState(position, "saving", "Saving…");
      post(position, seq, fields).then(function (r) {
        q.sending = false;
        if (r.status === 200 && typeof r.data.saved !== "boolean") {
          scheduleRetry(position);  // not our server's reply (a proxy or a portal page): not acknowledged
        } else if (r.status === 200) {
          q.failures = 0;
          buffer.forget(position, seq);
          if (q.seq > seq) { send(position); return; }  // a newer change waited for this one
          if (r.data.saved) setState(position, "saved", "Saved");
          else setState(position, "stale", "A newer answer from another window was kept. Reload to see it.");
        } else if (r.status === 409) {
          buffer.forgetAll();  // the attempt is closed: these answers can no longer count
          setState(position, "closed", r.data.error || "This attempt no longer takes answers.");
          options.onClosed(r.data.result_url);
        } else if (r.status === 401) {
          scheduleRetry(position, "Not saved: you are signed out. Your answer is kept in this browser and sent once you sign in again.");
          options.onSignedOut();
        } else if (r.status === 400 && r.data.reason === "csrf") {
          refreshCsrf().then(function (ok) {
            // Straight away after a first refresh; if the new token fails too, back off as for any failure.
            if (ok && q.failures === 0) { q.failures = 1; send(position); } else scheduleRetry(position);
          });
        } else if (r.status === 400 || r.status === 403 || r.status === 404) {
          // The server read the answer and refused it (for example two items given the same position):
          // sending it again cannot help; the next change is saved as usual.
          buffer.forget(position, seq);
          if (q.seq > seq) { send(position); return; }
          setState(position, "refused", "Not saved: " + (r.data.error || "the server refused this answer."));
        } else {
          scheduleRetry(position);  // 429, 5xx: the server is busy or failing
        }
      }, function () {
        q.sending = false;
        scheduleRetry(position);  // the network failed or the server did not answer in time
      });
    }

    return {
      // A new answer (seq grows by one per change): kept locally first, then sent.
      queue: function (position, seq, fields) {
        var q = question(position);
        q.seq = seq; q.fields = fields;
        buffer.put(position, seq, fields);
        if (q.timer) { clearTimeout(q.timer); q.timer = null; }  // a fresh change is sent now
        send(position);
      },
      // Send everything that is waiting for a retry now (the network is back).
      retryNow: function () {
        Object.keys(questions).forEach(function (position) {
          var q = questions[position];
          if (q.timer) { clearTimeout(q.timer); q.timer = null; q.failures = 0; send(position); }
        });
      },
      // Questions whose newest answer the server has not acknowledged yet.
      unsavedPositions: function () {
        return Object.keys(questions).filter(function (position) {
          var state = questions[position].state;
          return state === "saving" || state === "retrying";
        });
      }
    };
  }

  // --- the countdown: displays the deadline the server stored when the attempt started ------------
  function startCountdown(timer, announcer, onTimeUp) {
    var deadline = Date.now() + Number(timer.dataset.msLeft);
    var done = false;
    var secondsLeft = function () { return Math.max(0, Math.ceil((deadline - Date.now()) / 1000)); };
    // Announce a threshold only when it is crossed while the page is open, never on load.
    var thresholds = [300, 60].filter(function (t) { return secondsLeft() >= t; });
    var tick = function () {
      var left = secondsLeft();
      var m = Math.floor(left / 60), s = left % 60;
      timer.textContent = m + ":" + (s < 10 ? "0" : "") + s;
      thresholds = thresholds.filter(function (threshold) {
        if (left > threshold) return true;
        announcer.textContent = (threshold / 60) + (threshold === 60 ? " minute" : " minutes") + " left.";
        return false;
      });
      if (left === 0 && !done) {
        done = true;
        announcer.textContent = "Time is up. Submitting your saved answers.";
        onTimeUp();
      }
    };
    tick();
    setInterval(tick, 250);
  }

  // --- the page -----------------------------------------------------------------------------------
  var form = document.getElementById("quiz-form");
  if (!form) return;
  var csrfInput = form.querySelector("input[name=csrf_token]");
  var fieldsets = Array.prototype.slice.call(form.querySelectorAll("fieldset.question"));
  var answeredCount = document.getElementById("answered-count");
  var leaving = false;  // set when the page itself submits the form: no "unsaved answers" warning then

  function fieldsetAt(position) { return document.getElementById("question-" + position); }
  function answerInputs(fieldset) {
    return Array.prototype.slice.call(fieldset.querySelectorAll("input, select")).filter(function (input) {
      return input.name && input.name.indexOf("seq-") !== 0 && input.type !== "hidden";
    });
  }
  function fieldsOf(fieldset) {
    var fields = [];
    answerInputs(fieldset).forEach(function (input) {
      if ((input.type === "radio" || input.type === "checkbox") && !input.checked) return;
      fields.push([input.name, input.value]);
    });
    return fields;
  }
  function applyFields(fieldset, fields) {
    answerInputs(fieldset).forEach(function (input) {
      var values = fields.filter(function (f) { return f[0] === input.name; }).map(function (f) { return f[1]; });
      if (input.type === "radio" || input.type === "checkbox") input.checked = values.indexOf(input.value) !== -1;
      else input.value = values.length ? values[0] : "";
    });
  }
  function isAnswered(fieldset) {
    return fieldsOf(fieldset).some(function (f) { return String(f[1]).trim() !== ""; });
  }
  function setSeq(fieldset, seq) {
    fieldset.dataset.seq = String(seq);
    // Keep the no-script fields current, so a form post never carries an older sequence number.
    var hidden = form.querySelector("input[name=seq-" + fieldset.dataset.position + "]");
    if (hidden) hidden.value = String(seq);
  }
  function updateAnsweredCount() {
    if (answeredCount) answeredCount.textContent = String(fieldsets.filter(isAnswered).length);
  }

  var signInNotice = document.getElementById("signed-out-notice");
  var buffer = createAnswerBuffer(form.dataset.attemptId);
  var client = createSaveClient({
    saveUrl: form.dataset.saveUrl,  // ends with "/answers/"; the question's position is appended
    csrf: csrfInput.value,
    buffer: buffer,
    onState: function (position, state, text) {
      var el = document.getElementById("save-state-" + position);
      el.textContent = text;
      el.className = "save-state " + ({saved: "saved", saving: "saving", stale: "warning"}[state] || "error");
    },
    onCsrf: function (token) { csrfInput.value = token; },
    onSignedOut: function () { if (signInNotice) signInNotice.hidden = false; },
    onClosed: function (resultUrl) {
      if (!resultUrl) return;
      leaving = true;
      window.location.href = resultUrl;
    }
  });

  function answerChanged(fieldset) {
    var seq = Number(fieldset.dataset.seq) + 1;
    setSeq(fieldset, seq);
    updateAnsweredCount();
    client.queue(fieldset.dataset.position, seq, fieldsOf(fieldset));
  }
  var typingTimers = {};
  form.addEventListener("change", function (event) {
    var fieldset = event.target.closest("fieldset.question");
    if (!fieldset || event.target.type === "text") return;
    answerChanged(fieldset);
  });
  form.addEventListener("input", function (event) {
    var fieldset = event.target.closest("fieldset.question");
    if (!fieldset || event.target.type !== "text") return;
    var position = fieldset.dataset.position;
    updateAnsweredCount();
    document.getElementById("save-state-" + position).textContent = "Typing…";
    clearTimeout(typingTimers[position]);
    typingTimers[position] = setTimeout(function () { delete typingTimers[position]; answerChanged(fieldset); }, 600);
  });

  // Replay what this browser kept and the server does not have yet (after a reload, a closed tab,
  // a dropped network or a new sign-in). The server keeps the newest sequence number per question.
  var kept = buffer.newest();
  Object.keys(kept).forEach(function (position) {
    var fieldset = fieldsetAt(position), entry = kept[position];
    if (!fieldset) return;
    if (entry.seq <= Number(fieldset.dataset.seq)) {
      buffer.forget(position, entry.seq);  // the server has it or a newer one
      return;
    }
    applyFields(fieldset, entry.fields);
    setSeq(fieldset, entry.seq);
    client.queue(position, entry.seq, entry.fields);
  });
  updateAnsweredCount();

  // The network is back, or the learner returns to this tab (perhaps after signing in in another one).
  window.addEventListener("online", function () { client.retryNow(); });
  window.addEventListener("focus", function () { client.retryNow(); });
  document.addEventListener("visibilitychange", function () { if (!document.hidden) client.retryNow(); });
  function unsavedCount() {
    var positions = client.unsavedPositions();
    Object.keys(typingTimers).forEach(function (p) { if (positions.indexOf(p) === -1) positions.push(p); });
    return positions.length;
  }
  if (signInNotice) {
    // The answers are kept in this browser, so going to sign in needs no "leave the page?" warning.
    signInNotice.querySelector("a").addEventListener("click", function () { leaving = true; });
  }
  window.addEventListener("beforeunload", function (event) {
    if (leaving || unsavedCount() === 0) return;
    event.preventDefault();
    event.returnValue = "";  // browsers show their own "leave the page?" text
  });

  var submitButton = document.getElementById("submit-attempt");
  form.addEventListener("submit", function (event) {
    if (event.submitter === submitButton && !form.querySelector("input[name=time_up]")) {
      var empty = fieldsets.length - fieldsets.filter(isAnswered).length;
      var unsaved = unsavedCount();
      var parts = [];
      if (empty) parts.push(empty === 1 ? "1 question has no answer." : empty + " questions have no answer.");
      if (unsaved) parts.push(unsaved === 1 ? "1 answer is not saved yet (it is sent with the submit)."
                                            : unsaved + " answers are not saved yet (they are sent with the submit).");
      if (parts.length && !window.confirm(parts.join(" ") + " Submit anyway?")) {
        event.preventDefault();
        return;
      }
    }
    leaving = true;  // the form post carries every answer on the page
  });

  // The sticky status bar's height, for the scroll padding that keeps focused controls below it.
  var statusBar = document.getElementById("quiz-status");
  if (statusBar) {
    var measureBar = function () {
      document.documentElement.style.setProperty("--quiz-bar-height", statusBar.offsetHeight + "px");
    };
    measureBar();
    if (window.ResizeObserver) new ResizeObserver(measureBar).observe(statusBar);
    else window.addEventListener("resize", measureBar);
  }

  var timer = document.getElementById("timer");
  if (timer) {
    startCountdown(timer, document.getElementById("timer-announcer"), function () {
      var flag = document.createElement("input");
      flag.type = "hidden"; flag.name = "time_up"; flag.value = "1";
      form.appendChild(flag);
      leaving = true;
      form.requestSubmit(submitButton);
    });
  }
})();
