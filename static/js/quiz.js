// Saves each answer as it is given, shows whether it was saved, and shows the server's deadline.
// Without this script the quiz still works: the form's "Save answers" and "Submit" buttons post everything.
(function () {
  "use strict";
  var form = document.getElementById("quiz-form");
  if (!form) return;
  var saveUrl = form.dataset.saveUrl;  // ends with "/answers/"; the question's position is appended
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var pending = {};

  function setState(position, text, kind) {
    var el = document.getElementById("save-state-" + position);
    el.textContent = text;
    el.className = "save-state " + (kind || "");
  }

  function save(fieldset, attempt) {
    var position = fieldset.dataset.position;
    var seq = Number(fieldset.dataset.seq);
    var body = new URLSearchParams();
    fieldset.querySelectorAll("input, select").forEach(function (input) {
      if (!input.name || input.name.indexOf("seq-") === 0) return;
      if ((input.type === "radio" || input.type === "checkbox") && !input.checked) return;
      body.append(input.name, input.value);
    });
    body.append("seq", String(seq));
    body.append("csrf_token", csrf);
    pending[position] = seq;
    setState(position, "Saving…", "saving");
    fetch(saveUrl + position, {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"X-Requested-With": "fetch", "Accept": "application/json"}
    }).then(function (response) {
      return response.json().then(function (data) { return {status: response.status, data: data}; });
    }).then(function (r) {
      if (pending[position] !== seq) return;  // a newer change is on its way
      if (r.status === 200) {
        delete pending[position];
        setState(position, r.data.saved ? "Saved" : "A newer answer from another window was kept. Reload to see it.",
                 r.data.saved ? "saved" : "warning");
      } else if (r.status === 409) {
        setState(position, r.data.error, "error");
        if (r.data.result_url) window.location.href = r.data.result_url;
      } else if (r.status === 401 || r.status === 403) {
        setState(position, "Not saved: you are signed out. Sign in again in another tab, then change the answer.", "error");
      } else {
        setState(position, "Not saved: " + (r.data.error || "the server refused it"), "error");
      }
    }).catch(function () {
      if (pending[position] !== seq) return;
      var wait = Math.min(30000, 1000 * Math.pow(2, attempt || 0));
      setState(position, "Not saved, retrying…", "error");
      setTimeout(function () { if (pending[position] === seq) save(fieldset, (attempt || 0) + 1); }, wait);
    });
  }

  var textTimers = {};
  function changed(event) {
    var fieldset = event.target.closest("fieldset.question");
    if (!fieldset) return;
    var seq = Number(fieldset.dataset.seq) + 1;
    fieldset.dataset.seq = String(seq);
    // Keep the no-script fields current, so a form post never carries an older sequence number.
    var hidden = form.querySelector("input[name=seq-" + fieldset.dataset.position + "]");
    if (hidden) hidden.value = String(seq);
    if (event.type === "input") {
      clearTimeout(textTimers[fieldset.dataset.position]);
      setState(fieldset.dataset.position, "Typing…", "saving");
      textTimers[fieldset.dataset.position] = setTimeout(function () { save(fieldset, 0); }, 600);
    } else {
      save(fieldset, 0);
    }
  }
  form.addEventListener("change", function (e) { if (e.target.type !== "text") changed(e); });
  form.addEventListener("input", function (e) { if (e.target.type === "text") changed(e); });

  // The countdown only displays the deadline the server stored when the attempt started.
  var timer = document.getElementById("timer");
  if (timer) {
    var announcer = document.getElementById("timer-announcer");
    var deadline = Date.now() + Number(timer.dataset.msLeft);
    var submitted = false;
    var secondsLeft = function () { return Math.max(0, Math.ceil((deadline - Date.now()) / 1000)); };
    // Announce a threshold only when it is crossed while the page is open, never on load.
    var pending = [300, 60].filter(function (t) { return secondsLeft() >= t; });
    var tick = function () {
      var left = secondsLeft();
      var m = Math.floor(left / 60), s = left % 60;
      timer.textContent = m + ":" + (s < 10 ? "0" : "") + s;
      pending = pending.filter(function (threshold) {
        if (left > threshold) return true;
        announcer.textContent = (threshold / 60) + (threshold === 60 ? " minute" : " minutes") + " left.";
        return false;
      });
      if (left === 0 && !submitted) {
        submitted = true;
        announcer.textContent = "Time is up. Submitting your saved answers.";
        var flag = document.createElement("input");
        flag.type = "hidden"; flag.name = "time_up"; flag.value = "1";
        form.appendChild(flag);
        form.requestSubmit(document.getElementById("submit-attempt"));
      }
    };
    tick();
    setInterval(tick, 250);
  }
})();
