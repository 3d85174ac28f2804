// Site behaviour that used to be inline (the Content-Security-Policy allows no inline script):
// a <select data-autosubmit> submits its form when changed (the order list's sort, the branding event).
document.addEventListener("change", function (event) {
  var field = event.target;
  if (field && field.matches && field.matches("select[data-autosubmit]") && field.form) {
    field.form.submit();
  }
});
