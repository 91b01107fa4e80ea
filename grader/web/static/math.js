// Typeset \( \) and \[ \] with the vendored KaTeX; without JavaScript the TeX source stays readable.
document.addEventListener("DOMContentLoaded", function () {
  renderMathInElement(document.body, {
    delimiters: [{left: "\\[", right: "\\]", display: true}, {left: "\\(", right: "\\)", display: false}],
    throwOnError: false
  });
});
