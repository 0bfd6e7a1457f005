// The staff console's only script. The Content-Security-Policy runs no inline handler (`onsubmit=`),
// so a form that must ask first says what to ask in `data-confirm`, and this asks it: "Cancel" in the
// dialog keeps the form from being sent.
//
// A form is sent once: a second click while the first one's answer is on its way would send the action
// again, and the page the person lands on would be the second one's refusal ("already recorded",
// "not waiting any more") about what the first one did.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) {
    return;
  }
  if (form.dataset.sent === "yes") {
    event.preventDefault();
    return;
  }
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "yes";
});

// Back to this page from the browser's cache: its forms can be sent again.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) {
    document.querySelectorAll("form[data-sent]").forEach((form) => delete form.dataset.sent);
  }
});
