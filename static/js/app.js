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
  // The count starts when the server's response arrived (its first byte for a full load, the request's end for a
  // boosted swap), not when the page was drawn: on a busy device drawing can take a while, and every millisecond
  // of it would make the click look older than it was.
  var arrivedAt = null;
  function firstByte() {
    var entry = performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
    return entry && entry.responseStart > 0 ? entry.responseStart : null;
  }
  function markRendered(root, start) {
    var forms = root.querySelectorAll ? root.querySelectorAll("[data-answer-form]") : [];
    Array.prototype.forEach.call(forms, function (form) {
      if (form.renderedAt === undefined) form.renderedAt = start || performance.now();
    });
  }
  var loaded = false;  // the first page of this document: its forms count from the response's first byte
  document.addEventListener("DOMContentLoaded", function () { markRendered(document, firstByte()); loaded = true; });
  document.addEventListener("htmx:afterRequest", function (event) {
    var config = event.detail.requestConfig || {};
    if ((config.verb || "").toLowerCase() === "get") arrivedAt = performance.now();
  });
  document.addEventListener("htmx:load", function (event) {
    markRendered(event.detail.elt.parentNode || document, loaded ? arrivedAt : firstByte());
    loaded = true;
    arrivedAt = null;
  });

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
      status.textContent = offline.attempt && localStorageWorks()
        ? "Not saved yet: the connection failed. Your choice is kept in this browser and saved when it returns."
        : "Not saved: the connection failed. Pick your answer again to retry.";
    }
  }
  document.addEventListener("htmx:sendError", showSaveError);
  document.addEventListener("htmx:responseError", showSaveError);

  // --- Offline: a dropped connection loses no answer. -------------------------------------------------------
  // A failed autosave is kept in localStorage (per attempt) and retried with backoff, oldest click first, when
  // the connection returns; the server still orders saves by its own page tokens (save_protocol.py), so a kept
  // answer never overwrites one given later on another device. A failed move to another question shows that
  // question from the attempt's offline pack (every question without its key, fetched once per page), so the
  // learner keeps answering. Whatever the server refuses (time up, a later answer elsewhere) is said plainly.
  var offline = { pack: null, packAt: 0, attempt: null, prefix: null, delay: 1000, timer: null, busy: false,
                  position: null, failed: {}, savedWhileOffline: 0, known: {} };
  var PENDING = "quizapp:pending:";

  function readPending(attempt) {
    try { return JSON.parse(localStorage.getItem(PENDING + attempt) || "[]"); } catch (e) { return []; }
  }
  function writePending(attempt, list) {
    try {
      if (list.length) localStorage.setItem(PENDING + attempt, JSON.stringify(list));
      else localStorage.removeItem(PENDING + attempt);
    } catch (e) { /* storage full or disabled: the banner still says the answer is not saved */ }
  }
  function keep(attempt, save) {
    var list = readPending(attempt).filter(function (item) { return item.url !== save.url; });
    list.push(save);
    writePending(attempt, list);
  }
  function forget(attempt, url, before) {
    writePending(attempt, readPending(attempt).filter(function (item) { return item.url !== url || item.at > before; }));
  }
  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }
  function positionOf(url) {
    var match = offline.prefix && url.indexOf(offline.prefix) === 0 ? url.slice(offline.prefix.length).match(/^(\d+)\//) : null;
    return match ? parseInt(match[1], 10) : null;
  }

  function banner() {
    var element = document.getElementById("offline-banner");
    if (!element || !offline.attempt) return;
    var waiting = readPending(offline.attempt).length;
    var failed = Object.keys(offline.failed).sort(function (a, b) { return a - b; });
    var lines = [];
    if (waiting) {
      lines.push((navigator.onLine ? "Saving is failing: the server cannot be reached. " : "You are offline. ") +
        waiting + (waiting === 1 ? " answer is" : " answers are") + " kept in this browser and will be saved when the " +
        "connection returns. Keep answering; do not close this tab.");
    } else if (offline.savedWhileOffline) {
      lines.push("Back online: every answer kept in this browser is saved.");
    }
    if (failed.length) {
      lines.push("Could not be saved: " + failed.map(function (p) { return "question " + p + " (" + offline.failed[p] + ")"; }).join("; ") + ".");
    }
    element.hidden = !lines.length;
    element.className = "offline-banner" + (failed.length || waiting ? " is-error" : " is-ok");
    element.textContent = lines.join(" ");
  }

  function refusalText(html) {
    var text = new DOMParser().parseFromString(html, "text/html").body.textContent || "";
    text = text.replace(/\s+/g, " ").replace(/^\s*!?\s*Not saved:\s*/, "").replace(/See your result\s*$/, "").trim();
    return text || "refused by the server";
  }

  function flush() {
    var attempt = offline.attempt;
    if (!attempt || offline.busy) return;
    var list = readPending(attempt).sort(function (a, b) { return a.at - b.at; });
    if (!list.length) { banner(); return; }
    var save = list[0];
    var body = new URLSearchParams();
    body.append("page", save.page);
    body.append("elapsed", save.elapsed);
    save.choices.forEach(function (id) { body.append("choice", id); });
    offline.busy = true;
    fetch(save.url, { method: "POST", body: body, credentials: "same-origin",
                      headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" } })
      .then(function (response) {
        if (response.status >= 500) throw new Error("server unavailable");
        return response.text().then(function (text) {
          offline.busy = false;
          forget(attempt, save.url, save.at);
          if (response.ok) {
            offline.savedWhileOffline += 1;
            offline.known[save.position] = save.choices;
            delete offline.failed[save.position];
            var layout = document.querySelector("[data-offline-pack]");
            var status = document.querySelector("[data-save-status]");
            if (status && layout && offline.position === null && layout.getAttribute("data-position") === String(save.position)) {
              status.className = "save-status is-saved";
              status.textContent = "✓ Answer saved (kept in this browser while the connection was down).";
            }
          } else {
            offline.failed[save.position] = refusalText(text);
          }
          offline.delay = 1000;
          banner();
          if (readPending(attempt).length) flush();
          else if (offline.position !== null) window.location.assign(offline.prefix + offline.position + "/");
        });
      })
      .catch(function () {
        offline.busy = false;
        banner();
        clearTimeout(offline.timer);
        offline.timer = setTimeout(flush, offline.delay);
        offline.delay = Math.min(offline.delay * 2, 30000);
      });
  }
  window.addEventListener("online", function () { offline.delay = 1000; flush(); });

  function loadPack() {
    var layout = document.querySelector("[data-offline-pack]");
    if (!layout) return;
    var attempt = layout.getAttribute("data-attempt");
    var prefix = layout.getAttribute("data-question-prefix");
    offline.prefix = prefix.slice(0, prefix.length - "1/".length);
    offline.position = null;
    if (offline.attempt !== attempt) {
      offline.attempt = attempt;
      offline.pack = null;
      offline.failed = {};
      offline.known = {};
      fetch(layout.getAttribute("data-offline-pack"), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (pack) {
          if (!pack || offline.attempt !== attempt) return;
          offline.pack = pack;
          offline.packAt = performance.now();
          document.documentElement.setAttribute("data-offline-ready", "");
        })
        .catch(function () { /* no pack: a failed move just fails, answers are still kept */ });
    }
    banner();
    flush();
  }
  document.addEventListener("DOMContentLoaded", loadPack);
  document.addEventListener("htmx:afterSettle", function () {
    if (document.querySelector("[data-offline-pack]")) loadPack();
  });

  function choicesOf(form) {
    return Array.prototype.map.call(form.querySelectorAll("input[name=choice]:checked"), function (input) { return input.value; });
  }
  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt.closest ? event.detail.elt.closest("[data-answer-form]") : null;
    if (!form || !offline.attempt) return;
    form.lastSave = { url: form.getAttribute("action"), page: form.querySelector("input[name=page]").value,
                      elapsed: event.detail.parameters["elapsed"] || "", choices: choicesOf(form),
                      position: positionOf(form.getAttribute("action")), at: Date.now() };
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt.closest ? event.detail.elt.closest("[data-answer-form]") : null;
    if (!form || !form.lastSave || !offline.attempt) return;
    if (event.detail.successful) {
      forget(offline.attempt, form.lastSave.url, form.lastSave.at);  // a kept older click must not come back
      offline.known[form.lastSave.position] = form.lastSave.choices;
    } else if (!event.detail.xhr || event.detail.xhr.status === 0 || event.detail.xhr.status >= 500) {
      keep(offline.attempt, form.lastSave);
      clearTimeout(offline.timer);
      offline.timer = setTimeout(flush, offline.delay);
    }
    banner();
  });

  function paragraphs(parent, text) {
    text.split(/\n\s*\n/).forEach(function (block) {
      var p = document.createElement("p");
      block.split("\n").forEach(function (line, i) {
        if (i) p.appendChild(document.createElement("br"));
        p.appendChild(document.createTextNode(line));
      });
      parent.appendChild(p);
    });
  }
  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function chosenAt(position) {
    var kept = readPending(offline.attempt).filter(function (item) { return item.position === position; });
    if (kept.length) return kept[kept.length - 1].choices;
    if (offline.known[position]) return offline.known[position];
    return offline.pack.questions[position - 1].selected.map(String);
  }

  function showOffline(position) {
    var layout = document.querySelector("[data-offline-pack]");
    var questions = offline.pack.questions;
    var question = questions[position - 1];
    offline.position = position;
    layout.textContent = "";
    var card = element("article", "question-card card offline-card");
    card.setAttribute("aria-labelledby", "question-stem");
    var meta = element("header", "question-meta");
    meta.appendChild(element("span", "badge badge-offline", "Offline copy"));
    meta.appendChild(element("span", "badge badge-soft", "Question " + position + " of " + questions.length));
    card.appendChild(meta);
    var stem = element("div", "question-stem");
    stem.id = "question-stem";
    stem.tabIndex = -1;
    paragraphs(stem, question.stem);
    card.appendChild(stem);
    var form = element("form", "");
    form.setAttribute("data-answer-form", "");
    form.setAttribute("data-offline-form", String(position));
    var fieldset = element("fieldset", "options");
    fieldset.appendChild(element("legend", "visually-hidden", "Answer options"));
    var chosen = chosenAt(position);
    question.choices.forEach(function (choice, index) {
      var label = element("label", "option");
      var input = element("input");
      input.type = question.multiple ? "checkbox" : "radio";
      input.name = "choice";
      input.value = String(choice.id);
      input.checked = chosen.indexOf(String(choice.id)) !== -1;
      input.setAttribute("data-option-index", String(index + 1));
      label.appendChild(input);
      var key = element("span", "option-key", String(index + 1));
      key.setAttribute("aria-hidden", "true");
      label.appendChild(key);
      var body = element("span", "option-body");
      body.appendChild(element("span", "option-text", choice.text));
      label.appendChild(body);
      fieldset.appendChild(label);
    });
    form.appendChild(fieldset);
    card.appendChild(form);
    card.appendChild(element("p", "save-status muted",
      "No connection: your choice is kept in this browser and saved when the connection returns."));
    var actions = element("footer", "question-actions");
    function go(target, label, shortcut, primary) {
      var button = element("button", "button" + (primary ? " button-primary" : ""), label);
      button.type = "button";
      button.setAttribute("data-offline-go", String(target));
      if (shortcut) button.setAttribute("data-shortcut", shortcut);
      return button;
    }
    actions.appendChild(position > 1 ? go(position - 1, "← Previous", "previous") : element("span"));
    if (position < questions.length) actions.appendChild(go(position + 1, "Next →", "next", true));
    card.appendChild(actions);
    layout.appendChild(card);
    var aside = element("aside", "exam-sidebar");
    var nav = element("nav", "palette-panel");
    nav.setAttribute("aria-label", "Questions");
    var list = element("ol", "palette");
    questions.forEach(function (item) {
      var li = element("li");
      var answered = chosenAt(item.position).length > 0;
      var button = go(item.position, String(item.position));
      button.className = "palette-item" + (answered ? " is-answered" : "") + (item.position === position ? " is-current" : "");
      button.setAttribute("aria-label", "Question " + item.position + (answered ? ", answered" : ", not answered"));
      if (item.position === position) button.setAttribute("aria-current", "step");
      li.appendChild(button);
      list.appendChild(li);
    });
    nav.appendChild(list);
    aside.appendChild(nav);
    layout.appendChild(aside);
    var progress = document.querySelector(".exam-progress strong");
    if (progress) progress.textContent = String(position);
    stem.focus({ preventScroll: true });
    banner();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-offline-go]") : null;
    if (!button || !offline.pack) return;
    event.preventDefault();
    var target = parseInt(button.getAttribute("data-offline-go"), 10);
    if (navigator.onLine && !readPending(offline.attempt).length) {
      window.location.assign(offline.prefix + target + "/");  // connection back: the real page again
    } else {
      showOffline(target);
    }
  });
  document.addEventListener("change", function (event) {
    var form = event.target.closest ? event.target.closest("[data-offline-form]") : null;
    if (!form || !offline.pack) return;
    var position = parseInt(form.getAttribute("data-offline-form"), 10);
    keep(offline.attempt, { url: offline.prefix + position + "/answer/", page: offline.pack.questions[position - 1].token,
                            elapsed: String(Math.max(0, Math.round(performance.now() - offline.packAt))),
                            choices: choicesOf(form), position: position, at: Date.now() });
    var cell = document.querySelector('.palette [data-offline-go="' + position + '"]');
    if (cell) cell.classList.toggle("is-answered", choicesOf(form).length > 0);
    banner();
    flush();
  });
  document.addEventListener("htmx:sendError", function (event) {
    var form = event.detail.elt && event.detail.elt.closest ? event.detail.elt.closest("[data-answer-form]") : null;
    if (form && form.lastSave && offline.attempt) {
      keep(offline.attempt, form.lastSave);
      clearTimeout(offline.timer);
      offline.timer = setTimeout(flush, offline.delay);
      banner();
    }
    var config = event.detail.requestConfig || {};
    if (!offline.pack || (config.verb || "").toLowerCase() !== "get") return;
    var position = positionOf(config.path || "");
    if (position && position >= 1 && position <= offline.pack.questions.length) showOffline(position);
  });

  function localStorageWorks() {
    try { localStorage.setItem("quizapp:probe", "1"); localStorage.removeItem("quizapp:probe"); return true; } catch (e) { return false; }
  }

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
