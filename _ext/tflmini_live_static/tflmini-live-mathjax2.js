/* Loaded by thebe's LaTeX typesetter (JupyterLab's MathJax 2 typesetter, `mathjaxUrl`) instead of
 * MathJax 2 from a CDN: the page already runs MathJax 3, and _ext/tflmini_book.py's shim maps
 * MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]) to it. This gives the typesetter the other
 * MathJax 2 calls it makes on load (Config, Register.StartupHook, Configured) as no-ops. */
(function () {
  var mj = window.MathJax;
  if (!mj) { return; }
  var hub = mj.Hub = mj.Hub || {Queue: function () {}};
  hub.Config = hub.Config || function () {};
  hub.Configured = hub.Configured || function () {};
  hub.Register = hub.Register || {StartupHook: function (name, callback) {
    try { callback(); } catch (err) { /* only deletes MathJax 2 menu styles */ }
  }};
})();
