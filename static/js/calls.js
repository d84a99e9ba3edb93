// Call outcomes on the quick-update form: a tap selects the outcome and
// proposes the next step, which the telecaller can still change.
//   No answer / Busy / Switched off: the follow-up "in 2 hours" (the
//     shortcut button, see leads.js), unless a new time was already typed.
//   Wrong number, Not interested: close as Lost; the remark box (the call's
//     note) is the reason, "Wrong number" filled in when it is empty.
// Without JavaScript the outcome is simply posted with the rest of the form.
(function () {
  "use strict";
  var RETRY = { no_answer: true, busy: true, switched_off: true };
  var CLOSE = { wrong_number: "Wrong number", not_interested: "" };

  function nowIn(timeZone) {
    var parts = {};
    new Intl.DateTimeFormat("en-GB", {
      timeZone: timeZone, hourCycle: "h23", year: "numeric", month: "2-digit",
      day: "2-digit", hour: "2-digit", minute: "2-digit"
    }).formatToParts(new Date()).forEach(function (part) { parts[part.type] = part.value; });
    return parts.year + "-" + parts.month + "-" + parts.day + "T" + parts.hour + ":" + parts.minute;
  }

  function proposeRetry(form) {
    var button = form.querySelector("button.followup-shortcut[value='2h']");
    var field = button && document.getElementById(button.dataset.target);
    if (!field) return;
    var group = button.closest(".followup-shortcuts");
    var untouched = !field.value || field.value === field.defaultValue ||
      field.value <= nowIn(group.dataset.timeZone);
    if (untouched) button.click();  // leads.js fills the field and unticks "no follow-up"
  }

  function proposeClose(form, reason) {
    var status = form.elements.namedItem("status");
    var remark = form.elements.namedItem("remark");
    if (status) {
      if (!form.dataset.statusBeforeProposal) form.dataset.statusBeforeProposal = status.value;
      status.value = "lost";
    }
    if (remark && !remark.value.trim() && reason) remark.value = reason;
    if (remark && !reason) remark.focus();
  }

  function undoClose(form) {
    var status = form.elements.namedItem("status");
    var before = form.dataset.statusBeforeProposal;
    if (status && before && status.value === "lost") status.value = before;
    delete form.dataset.statusBeforeProposal;
  }

  document.addEventListener("change", function (event) {
    var radio = event.target;
    if (radio.name !== "outcome" || !radio.form || !radio.checked) return;
    var form = radio.form;
    if (Object.prototype.hasOwnProperty.call(CLOSE, radio.value)) {
      proposeClose(form, CLOSE[radio.value]);
      return;
    }
    undoClose(form);
    if (RETRY[radio.value]) proposeRetry(form);
  });
})();
