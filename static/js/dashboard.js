// Progressive enhancement for the dashboard: the day/user pickers and the due
// list's quick update refresh the page's data without a full reload. Without
// JavaScript the same forms work as ordinary GET/POST forms.
(function () {
  "use strict";
  var REGIONS = ["dashboard-title", "dashboard-data", "messages"];
  var filters = document.getElementById("dashboard-filters");
  var status = document.getElementById("dashboard-status");
  var pending = null;
  // Counts the user's changes to the pickers: a page that arrives after one
  // must not put the pickers back to what they showed before it.
  var pickerEdits = 0;

  // Fetch a dashboard page (a GET, or a POST whose redirect leads back to
  // one) and put its regions in place of ours. Resolves with the fetched
  // document, or null when `fallback` took over (the browser does it the
  // ordinary way).
  function load(url, options, push, fallback) {
    if (pending) pending.abort();
    var controller = pending = new AbortController();
    var data = document.getElementById("dashboard-data");
    data.setAttribute("aria-busy", "true");
    return fetch(url, Object.assign({ credentials: "same-origin", signal: controller.signal }, options))
      .then(function (response) {
        return response.text().then(function (html) {
          var page = new DOMParser().parseFromString(html, "text/html");
          // A login page, an error page or a 403: let the browser show it.
          // A refused POST is sent again the ordinary way (a GET of its URL
          // would only answer 405).
          if (!page.getElementById("dashboard-data") || response.status >= 500 || response.status === 403) {
            if ((options.method || "GET") === "POST") fallback();
            else window.location.assign(response.url);
            return null;
          }
          REGIONS.forEach(function (id) {
            var fresh = page.getElementById(id), current = document.getElementById(id);
            if (fresh && current) current.replaceWith(fresh);
          });
          document.title = page.title;
          if (push) history.pushState({ dashboard: true }, "", response.url);
          if (status) status.textContent = "Updated: " + document.getElementById("dashboard-title").textContent;
          return page;
        });
      })
      .catch(function (error) {
        if (error.name !== "AbortError") fallback();
        return null;
      })
      .finally(function () {
        if (pending === controller) pending = null;
        var current = document.getElementById("dashboard-data");
        if (current) current.removeAttribute("aria-busy");
      });
  }

  function showFilters() {
    var url = filters.action + "?" + new URLSearchParams(new FormData(filters)).toString();
    return load(url, {}, true, function () { window.location.assign(url); });
  }

  if (filters) {
    var timer = null;
    filters.addEventListener("change", function () {
      pickerEdits += 1;
      // A date typed digit by digit fires several changes: wait for a pause.
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (filters.checkValidity()) showFilters();
      }, 300);
    });
    filters.addEventListener("submit", function (event) {
      event.preventDefault();
      clearTimeout(timer);
      showFilters();
    });
  }

  // Quick update: post the form as it is (CSRF token included); the server
  // redirects to `next`, this dashboard, whose fresh regions show the message.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("#dashboard-data form.quick-update")) return;
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    var body = new FormData(form);
    // Where the page without JavaScript would land (the redirect's fragment):
    // the next card once saved, this one when refused.
    var anchor = body.get("anchor");
    var card = form.closest("tr.due-card");
    load(form.action, { method: "POST", body: body }, false, function () { form.submit(); }).then(function (page) {
      if (!page) return;
      var messages = document.querySelector("#messages .message");
      var refused = messages && messages.classList.contains("error");
      var place = document.getElementById(refused && card ? card.id : anchor);
      if (place) place.scrollIntoView({ block: "start" });
      if (messages) {
        messages.setAttribute("tabindex", "-1");
        messages.focus({ preventScroll: true });
      }
    });
  });

  // Entries this script made (and the first page) carry a state; an in-page
  // link such as "Skip to content" makes one without, which needs no fetch.
  history.replaceState({ dashboard: true }, "");
  window.addEventListener("popstate", function (event) {
    if (!event.state || !event.state.dashboard) return;
    var url = window.location.href;
    var editsBefore = pickerEdits;
    load(url, {}, false, function () { window.location.reload(); }).then(function (page) {
      // Keep the pickers in step with the page shown, unless the user has
      // changed them meanwhile (their change loads its own page).
      var fresh = page && page.getElementById("dashboard-filters");
      if (!fresh || !filters || pickerEdits !== editsBefore) return;
      Array.prototype.forEach.call(filters.elements, function (field) {
        var twin = field.name && fresh.elements.namedItem(field.name);
        if (twin && field.tagName !== "BUTTON") field.value = twin.value;
      });
    });
  });
})();
