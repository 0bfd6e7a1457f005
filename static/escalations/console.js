// The staff console's only script. The Content-Security-Policy runs no inline handler (`onsubmit=`),
// so a form that must ask first says what to ask in `data-confirm`, and this asks it: "Cancel" in the
// dialog keeps the form from being sent.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
