// A background job's page: poll its JSON status and move the progress bar until the file is ready.
(function () {
  "use strict";
  var section = document.getElementById("job");
  if (!section) { return; }
  var url = section.getAttribute("data-status-url");
  var bar = document.getElementById("job-progress");
  var state = document.getElementById("job-state");
  var error = document.getElementById("job-error");
  var summary = document.getElementById("job-summary");
  var download = document.getElementById("job-download");
  var refresh = document.getElementById("job-refresh");

  function show(job) {
    section.setAttribute("data-status", job.status);
    if (job.total) {
      bar.max = job.total;
      bar.value = job.status === "done" ? job.total : job.done;
    } else if (job.status === "done") {
      bar.max = 1;
      bar.value = 1;
    }
    if (job.status === "queued") {
      state.textContent = "Waiting for a worker…";
    } else if (job.status === "running") {
      state.textContent = "Preparing: " + job.done + (job.total ? " of " + job.total : "");
    } else if (job.status === "done") {
      state.textContent = "Ready.";
    } else {
      state.textContent = "Failed.";
    }
    if (job.status === "failed") {
      error.textContent = job.error || "";
      error.hidden = false;
    }
    if (job.summary) {
      summary.textContent = job.summary;
      summary.hidden = false;
    }
    download.hidden = !job.downloadable;
    refresh.hidden = job.status === "done" || job.status === "failed";
  }

  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (job) {
        if (job) { show(job); }
        if (!job || (job.status !== "done" && job.status !== "failed")) { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });  // offline for a moment: keep trying, slower
  }

  var initial = section.getAttribute("data-status");
  if (initial !== "done" && initial !== "failed") { window.setTimeout(poll, 500); }
})();
