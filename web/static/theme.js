// theme.js runs before the page paints, so it never flashes the wrong theme.
(function () {
  var t = localStorage.getItem("headroom-theme");
  if (t !== "light" && t !== "dark") t = matchMedia("(prefers-color-scheme: light)").matches ? "light" : "dark";
  document.documentElement.dataset.theme = t;
})();
