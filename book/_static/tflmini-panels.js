/* tflmini book: the static slider panels (tflmini.widgets.panel.Panel.static_html), with no widget manager.
 *
 * A panel is plain HTML: its default frame as an <img>, one native <input type="range"> per slider (over the
 * indices of its values, the value texts in data-labels) with a read-only <output> readout, and every frame
 * as a data URI in a <script type="application/json" class="tflmini-panel-frames"> (first slider outermost).
 * Moving a slider (keyboard, mouse, touch: the browser's own range input) shows the frame of the sliders'
 * indices and writes the value beside the slider. Loaded in the head of every page (_ext/tflmini_book.py).
 */
(function () {
  'use strict';

  function setUp(panel) {
    if (panel.dataset.tflminiReady) { return; }
    panel.dataset.tflminiReady = '1';
    var inputs = Array.prototype.slice.call(panel.querySelectorAll('input[type="range"]'));
    var image = panel.querySelector('img.tflmini-panel-frame');
    var source = panel.querySelector('script.tflmini-panel-frames');
    if (!inputs.length || !image || !source) { return; }
    var data = null;  // parsed on the first move: the page does not pay for frames nobody asks for

    function show() {
      if (data === null) { data = JSON.parse(source.textContent); }
      var flat = 0;
      inputs.forEach(function (input, k) {
        var index = Math.max(0, Math.min(data.shape[k] - 1, parseInt(input.value, 10) || 0));
        flat = flat * data.shape[k] + index;
        var labels = JSON.parse(input.getAttribute('data-labels'));
        var readout = input.parentNode.querySelector('output');
        if (readout) { readout.textContent = labels[index]; }
        input.setAttribute('aria-valuetext', labels[index]);
      });
      var src = data.frames[flat];
      if (src && image.getAttribute('src') !== src) { image.setAttribute('src', src); }
    }

    inputs.forEach(function (input) {
      input.addEventListener('input', show);
      input.addEventListener('change', show);
    });
    // a slider moved before this script ran (the panel is usable as soon as it is parsed)
    if (inputs.some(function (input) { return input.value !== input.defaultValue; })) { show(); }
  }

  // The inline script after each panel (Panel.static_html) calls setUp as soon as the panel is parsed; any
  // panel left (e.g. this file loaded late) is set up below.
  window.tflminiPanels = {setUp: setUp};

  function setUpAll() {
    Array.prototype.forEach.call(document.querySelectorAll('.tflmini-panel'), setUp);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', setUpAll);
  } else {
    setUpAll();
  }
})();
