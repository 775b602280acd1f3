// Progressive enhancement for the exam pages. Everything here has a no-JavaScript fallback in the HTML:
// plain form posts save answers, links navigate, and the server finishes an attempt whose time is up.
(function () {
  "use strict";

  document.documentElement.classList.remove("no-js");
  document.documentElement.classList.add("js");

  // --- Countdown: the server sends the seconds left; the browser only displays them. ---------------------------
  var timer = { endsAt: null, element: null, announced: {}, submitted: false };
  var ANNOUNCE_AT = [30 * 60, 15 * 60, 10 * 60, 5 * 60, 60, 0];

  function formatSeconds(total) {
    var h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    var mm = String(m).padStart(2, "0"), ss = String(s).padStart(2, "0");
    return h > 0 ? h + ":" + mm + ":" + ss : mm + ":" + ss;
  }

  function spoken(total) {
    if (total <= 0) return "Time is up. Submitting your answers.";
    var minutes = Math.round(total / 60);
    return minutes === 1 ? "One minute left." : minutes + " minutes left.";
  }

  function initTimer() {
    var element = document.querySelector("[data-timer]");
    if (!element) { timer.element = null; return; }
    var seconds = parseInt(element.getAttribute("data-seconds-left"), 10);
    timer.element = element;
    timer.endsAt = performance.now() + seconds * 1000;
    timer.submitted = false;
    // Don't re-announce thresholds already passed when the page loaded.
    timer.announced = {};
    ANNOUNCE_AT.forEach(function (mark) { if (seconds <= mark) timer.announced[mark] = true; });
    tick();
  }

  function pendingSaves() {
    return document.querySelectorAll("[data-answer-form].htmx-request").length > 0;
  }

  function submitWhenSaved(form, triesLeft) {
    // Let an autosave still in flight land first, so the last click counts.
    if (pendingSaves() && triesLeft > 0) {
      setTimeout(function () { submitWhenSaved(form, triesLeft - 1); }, 200);
      return;
    }
    form.removeAttribute("hx-confirm");
    form.requestSubmit ? form.requestSubmit() : form.submit();
  }

  function tick() {
    if (!timer.element || !document.body.contains(timer.element)) return;
    var left = Math.max(0, Math.round((timer.endsAt - performance.now()) / 1000));
    var value = timer.element.querySelector("[data-timer-value]");
    value.textContent = formatSeconds(left);
    timer.element.classList.toggle("is-low", left <= 5 * 60);
    ANNOUNCE_AT.forEach(function (mark) {
      if (left <= mark && !timer.announced[mark]) {
        timer.announced[mark] = true;
        timer.element.querySelector("[data-timer-announce]").textContent = spoken(left);
      }
    });
    if (left <= 0 && !timer.submitted) {
      timer.submitted = true;
      var form = document.getElementById(timer.element.getAttribute("data-time-up-form"));
      if (form) submitWhenSaved(form, 25);
    }
  }
  setInterval(tick, 1000);

  // --- Autosave: each request says how long after its page was shown the click came. -----------------------
  // The server signed the page's rendering moment into the form's `page` token and orders saves by
  // rendered moment + elapsed, capped at its own clock (exams/save_protocol.py): nothing here is trusted
  // further than that. Each answer form is timed from when it entered the document, so a boosted navigation
  // starts a new count instead of carrying the first page's.
  function markRendered(root) {
    var forms = root.querySelectorAll ? root.querySelectorAll("[data-answer-form]") : [];
    Array.prototype.forEach.call(forms, function (form) {
      if (form.renderedAt === undefined) form.renderedAt = performance.now();
    });
  }
  document.addEventListener("DOMContentLoaded", function () { markRendered(document); });
  document.addEventListener("htmx:load", function (event) { markRendered(event.detail.elt.parentNode || document); });

  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt.closest ? event.detail.elt.closest("[data-answer-form]") : null;
    if (!form) return;
    if (form.renderedAt !== undefined) {
      event.detail.parameters["elapsed"] = String(Math.max(0, Math.round(performance.now() - form.renderedAt)));
    }
    var status = document.querySelector("[data-save-status]");
    if (status) {
      status.className = "save-status is-saving";
      status.textContent = "Saving…";
    }
  });

  function showSaveError(event) {
    var form = event.detail.elt && event.detail.elt.closest ? event.detail.elt.closest("[data-answer-form]") : null;
    if (!form) return;
    var status = document.querySelector("[data-save-status]");
    if (status) {
      status.className = "save-status is-error";
      status.textContent = "Not saved: the connection failed. Pick your answer again to retry.";
    }
  }
  document.addEventListener("htmx:sendError", showSaveError);
  document.addEventListener("htmx:responseError", showSaveError);

  // --- Keyboard: digits choose, N / P move, F flags. ---------------------------------------------------------
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(TEXTAREA|SELECT)$/.test(target.tagName) ||
        (target.tagName === "INPUT" && !/^(radio|checkbox)$/.test(target.type)))) return;
    if (!document.querySelector("[data-answer-form]")) return;
    var key = event.key.toLowerCase();
    if (/^[1-9]$/.test(key)) {
      var option = document.querySelector('[data-answer-form] input[data-option-index="' + key + '"]');
      if (option && !option.disabled) {
        event.preventDefault();
        option.focus();
        option.click();
      }
      return;
    }
    var shortcut = { n: "next", p: "previous", f: "flag" }[key];
    if (!shortcut) return;
    var control = document.querySelector('[data-shortcut="' + shortcut + '"]');
    if (control) {
      event.preventDefault();
      control.click();
    }
  });

  // --- Sign-up: preselect the browser's own time zone (without JavaScript the list starts at UTC). ------------
  function preselectTimeZone() {
    var select = document.querySelector("select[data-browser-zone]");
    if (!select || !window.Intl) return;
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    for (var i = 0; zone && i < select.options.length; i++) {
      if (select.options[i].value === zone) { select.value = zone; return; }
    }
  }
  document.addEventListener("DOMContentLoaded", preselectTimeZone);
  document.addEventListener("htmx:afterSettle", preselectTimeZone);

  // --- Debrief: the arrow keys (or N / P) move between questions, as on a slide deck. ------------------------
  document.addEventListener("keydown", function (event) {
    if (!document.querySelector("[data-debrief]") || event.ctrlKey || event.metaKey || event.altKey) return;
    var rel = { arrowright: "next", n: "next", arrowleft: "prev", p: "prev" }[event.key.toLowerCase()];
    var link = rel && document.querySelector('[data-debrief] a[rel="' + rel + '"]');
    if (link) {
      event.preventDefault();
      link.click();
    }
  });

  document.addEventListener("DOMContentLoaded", initTimer);
  // Boosted navigation swaps the page body: start the countdown again from the new page's server figure,
  // and move focus to the new content so that screen readers and the Tab key start from the page, not the link.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (document.querySelector("[data-timer]") !== timer.element) initTimer();
    var config = event.detail.requestConfig;
    if (config && config.boosted && event.detail.target === document.body) {
      // On a question, start from the question itself (what a screen-reader user wants next), else the page.
      var start = document.getElementById("question-stem") || document.getElementById("main");
      if (start) start.focus({ preventScroll: true });
    }
  });
})();
