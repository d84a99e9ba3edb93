// Follow-up shortcuts ("in 2 hours", "tomorrow", ...) fill the follow-up field
// instead of submitting; "Did Not Pick Up" proposes "in 2 hours" when the
// field is empty or in the past. Times are worked out in the business time
// zone (data-time-zone), the one the server reads the field in. Without
// JavaScript the shortcuts are submit buttons the server resolves.
(function () {
  "use strict";
  var SHORTCUT_MS = { "2h": 2 * 3600e3, tomorrow: 864e5, "3d": 3 * 864e5, week: 7 * 864e5 };

  // A moment as the value of an <input type="datetime-local"> in `timeZone`.
  function localValue(ms, timeZone) {
    var parts = {};
    new Intl.DateTimeFormat("en-GB", {
      timeZone: timeZone, hourCycle: "h23", year: "numeric", month: "2-digit",
      day: "2-digit", hour: "2-digit", minute: "2-digit"
    }).formatToParts(new Date(ms)).forEach(function (part) { parts[part.type] = part.value; });
    return parts.year + "-" + parts.month + "-" + parts.day + "T" + parts.hour + ":" + parts.minute;
  }

  function fill(group, target, shortcut) {
    var field = document.getElementById(target);
    if (!field) return;
    field.value = localValue(Date.now() + SHORTCUT_MS[shortcut], group.dataset.timeZone);
    var untick = field.form && field.form.elements.namedItem("no_followup");
    if (untick) untick.checked = false;
  }

  // Enter in a field must save the form, not press the first shortcut.
  function enhance(root) {
    root.querySelectorAll("button.followup-shortcut[type=submit]").forEach(function (button) {
      button.type = "button";
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.followup-shortcut");
    if (!button) return;
    event.preventDefault();
    fill(button.closest(".followup-shortcuts"), button.dataset.target, button.value);
  });

  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.name !== "status" || select.value !== "did_not_pick_up" || !select.form) return;
    var group = select.form.querySelector(".followup-shortcuts");
    var button = group && group.querySelector("button.followup-shortcut[value='2h']");
    var field = button && document.getElementById(button.dataset.target);
    if (!field) return;
    var now = localValue(Date.now(), group.dataset.timeZone);
    // Same-format local strings compare in time order.
    if (!field.value || field.value <= now) fill(group, button.dataset.target, "2h");
  });

  enhance(document);
  // The dashboard replaces its regions after a quick update.
  new MutationObserver(function () { enhance(document); })
    .observe(document.body, { childList: true, subtree: true });
})();
