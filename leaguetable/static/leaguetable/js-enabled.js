// Run at the top of <body>, before the page is drawn: the NHS.UK frontend styles its
// components for JavaScript from these classes.
document.body.className +=
  " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " nhsuk-frontend-supported" : "");
