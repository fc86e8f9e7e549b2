/* Live Code (launch menu > Live Code) that never hangs: see _ext/tflmini_live.py.
 *
 * Wraps sphinx-thebe's initThebe() and picks the kernel before thebe starts:
 *  - page served by `make live`: <site root>/tflmini-live.json names the local Jupyter server;
 *    thebe connects to it (useBinder: false, serverSettings) once it answers;
 *  - page served from this machine otherwise (a local build, file://): no kernel to connect to,
 *    so the message below shows at once and nothing is requested from another host (a button in
 *    the message starts the Binder kernel if the reader wants it);
 *  - published site: Binder, as sphinx-thebe does, after checking that the BinderHub answers.
 * Whenever no kernel can be reached (no answer within a few seconds, or thebe reports an error),
 * the message says what to do instead: `make live`, Binder / Colab, the notebook download.
 * <html data-tflmini-live="..."> holds the state (checking, starting, ready, help) for the tests.
 */
(function () {
  'use strict';

  var PROBE_MS = 3000;          // local config file / local Jupyter server / BinderHub answer
  var THEBE_LOAD_MS = 15000;    // the thebe bundle (served with the site) is loaded
  var LOCAL_KERNEL_MS = 90000;  // local server answered, but no kernel became ready

  var running = false;   // a start is in progress or thebe was bootstrapped
  var helpShown = false;

  function setState(state) { document.documentElement.setAttribute('data-tflmini-live', state); }

  function siteRoot() {
    var root = document.documentElement.getAttribute('data-content_root') || './';
    return new URL(root, window.location.href);
  }

  function isLocalPage() {
    var host = window.location.hostname;
    return window.location.protocol === 'file:' || host === '127.0.0.1' || host === 'localhost' ||
      host === '[::1]' || host === '::1';
  }

  function withTimeout(promise, ms, what) {
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () { reject(new Error(what + ': no answer within ' + ms / 1000 + ' s')); }, ms);
      promise.then(function (v) { clearTimeout(timer); resolve(v); },
                   function (e) { clearTimeout(timer); reject(e); });
    });
  }

  function fetchWithin(url, ms, options) {
    var controller = window.AbortController ? new AbortController() : null;
    var opts = Object.assign({cache: 'no-store'}, options || {});
    if (controller) { opts.signal = controller.signal; setTimeout(function () { controller.abort(); }, ms); }
    return withTimeout(fetch(url, opts), ms, url);
  }

  function linkWhere(test) {
    var links = document.querySelectorAll('a[href]');
    for (var i = 0; i < links.length; i++) { if (test(links[i])) { return links[i].href; } }
    return null;
  }

  function binderLink() { return linkWhere(function (a) { return /\/v2\/gh\//.test(a.href); }); }
  function colabLink() { return linkWhere(function (a) { return /colab\.research\.google\.com\//.test(a.href); }); }
  function downloadLink() { return linkWhere(function (a) { return a.classList.contains('btn-download-notebook-button'); }); }
  function companionLink() {
    var a = document.querySelector('.tflmini-companion a.tflmini-companion-download');
    return a ? a.href : null;
  }

  function launchButton() { return document.querySelector('.thebe-launch-button'); }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { node.append(c); });
    return node;
  }

  function code(text) { return el('code', {}, [text]); }
  function link(href, text) { return el('a', {href: href}, [text]); }

  /* The message: why there is no kernel, and what to do instead. */
  function showHelp(reason, original) {
    helpShown = true;
    running = false;
    setState('help');
    var old = document.querySelector('.tflmini-live-help');
    if (old) { old.remove(); }
    var items = [];
    items.push(el('li', {}, ['On your computer: in a clone of the repository run ', code('make live'),
      ' and open this page at the address it prints; Live Code then runs the cells on your own Jupyter server.']));
    var binder = binderLink(), colab = colabLink();
    if (binder || colab) {
      var parts = ['Online: open this page as a notebook '];
      if (binder) { parts.push(link(binder, 'on Binder')); }
      if (binder && colab) { parts.push(' or '); }
      if (colab) { parts.push(link(colab, 'in Google Colab')); }
      parts.push('.');
      items.push(el('li', {}, parts));
    }
    var download = downloadLink(), companion = companionLink();
    if (download || companion) {
      var dl = ['Download '];
      if (download) { dl.push(link(download, 'this page as a notebook')); }
      if (download && companion) { dl.push(' or '); }
      if (companion) { dl.push(link(companion, 'its companion notebook')); }
      dl.push(' and open it in Jupyter.');
      items.push(el('li', {}, dl));
    }
    var box = el('div', {'class': 'tflmini-live-help admonition warning', role: 'alert'}, [
      el('p', {'class': 'admonition-title'}, ['Live Code: no Jupyter server reachable']),
      el('p', {}, [reason]),
      el('ul', {}, items),
    ]);
    if (original && binder) {
      var tryBinder = el('button', {type: 'button', 'class': 'btn btn-sm btn-outline-secondary'},
                         ['Start a kernel on mybinder.org instead']);
      tryBinder.addEventListener('click', function () { box.remove(); startBinder(original); });
      box.append(tryBinder);
    }
    var button = launchButton();
    if (button) {
      button.textContent = 'Live Code: no kernel (see below)';
      button.insertAdjacentElement('afterend', box);
    } else {
      var h1 = document.querySelector('section h1') || document.querySelector('h1');
      (h1 || document.body.firstElementChild).insertAdjacentElement('afterend', box);
    }
    console.warn('[tflmini-live] ' + reason);
  }

  /* thebe 0.9's bootstrap(options) puts its defaults ({useBinder: true}) over the page's
   * x-thebe-config, and starts a kernel only if options.requestKernel: sphinx-thebe calls it with no
   * options. So the options are given to bootstrap() itself, wrapped when thebe sets its global. */
  function bootstrapWith(options) {
    var value = window.thebelab;
    function wrapBootstrap(v) {
      if (v && typeof v.bootstrap === 'function' && !v.bootstrap.tflminiLive) {
        var bootstrap = v.bootstrap;
        v.bootstrap = function (opts) { return bootstrap(Object.assign({}, opts || {}, options)); };
        v.bootstrap.tflminiLive = true;
      }
      return v;
    }
    wrapBootstrap(value);
    Object.defineProperty(window, 'thebelab', {
      configurable: true,
      get: function () { return value; },
      set: function (v) { value = wrapBootstrap(v); },
    });
  }

  function addThebeConfig(extra) {
    var config = Object.assign({
      // thebe's LaTeX typesetter would load MathJax 2 from a CDN: the stub maps it to the page's MathJax 3.
      mathjaxUrl: new URL('_static/tflmini-live-mathjax2.js', siteRoot()).href,
    }, extra || {});
    var script = el('script', {type: 'text/x-thebe-config', 'data-tflmini-live': ''});
    script.textContent = JSON.stringify(config);
    document.body.appendChild(script);  // merged over sphinx-thebe's block, which comes first
  }

  /* After sphinx-thebe's initThebe() added the thebe <script>: follow it and thebe's events. */
  function followThebe(label, kernelTimeoutMs) {
    var done = false;
    var kernelTimer = null;
    var loadTimer = setTimeout(function () {
      if (!window.thebe) { fail('the Live Code script (thebe) did not load within ' + THEBE_LOAD_MS / 1000 + ' s.'); }
    }, THEBE_LOAD_MS);

    function fail(reason) {
      if (done) { return; }
      done = true;
      clearTimeout(loadTimer);
      clearTimeout(kernelTimer);
      showHelp(reason);
    }

    function attach() {
      clearTimeout(loadTimer);
      var thebe = window.thebe;
      if (!thebe || typeof thebe.on !== 'function') { fail('the Live Code script (thebe) did not start.'); return; }
      if (kernelTimeoutMs) {
        kernelTimer = setTimeout(function () {
          fail('No kernel became ready within ' + kernelTimeoutMs / 1000 + ' s.');
        }, kernelTimeoutMs);
      }
      thebe.on('status', function (evt, data) {
        data = data || {};
        var msg = document.querySelector('.thebe-launch-button .launch_msg');
        if (msg && label) { msg.textContent = label + ' '; }
        if (data.status === 'ready' && (data.subject === 'session' || data.subject === 'kernel')) {
          done = true;
          clearTimeout(kernelTimer);
          setState('ready');
        }
      });
      thebe.on('error', function (evt, data) {
        data = data || {};
        fail('The kernel could not be started (' + (data.status || 'error') + ': ' +
             String(data.message || '').slice(0, 200) + ').');
      });
    }

    var script = Array.prototype.slice.call(document.querySelectorAll('script[src]')).filter(function (s) {
      return /\/thebe\/index\.js$/.test(s.src);
    })[0];
    if (window.thebe) { attach(); }
    else if (script) {
      script.addEventListener('load', attach);  // after sphinx-thebe's listener, which bootstraps thebe
      script.addEventListener('error', function () { fail('the Live Code script (thebe) could not be loaded.'); });
    } else { fail('the Live Code script (thebe) is not on this page.'); }
  }

  function startBinder(original) {
    running = true;
    setState('starting');
    addThebeConfig({});
    bootstrapWith({useBinder: true, requestKernel: true});
    original();
    followThebe(null, 0);
  }

  function start(original) {
    if (running) { return original(); }
    running = true;
    setState('checking');
    var button = launchButton();
    if (button) { button.textContent = 'Looking for a Jupyter kernel...'; }
    var old = document.querySelector('.tflmini-live-help');
    if (old) { old.remove(); }
    if (!document.querySelector('link[data-tflmini-live]')) {  // thebe's own styles (cells, buttons)
      document.head.append(el('link', {rel: 'stylesheet', 'data-tflmini-live': '',
                                       href: new URL('_static/thebe/thebe.css', siteRoot()).href}));
    }

    if (isLocalPage()) {
      var configUrl = new URL('tflmini-live.json', siteRoot()).href;
      fetchWithin(configUrl, PROBE_MS)
        .then(function (r) { return r.ok ? r.json() : null; })
        .catch(function () { return null; })
        .then(function (cfg) {
          if (!cfg || !cfg.baseUrl) {
            showHelp('This copy of the book was not started with a Jupyter server (make live), so ' +
                     'there is no kernel to run its code.', original);
            return;
          }
          return fetchWithin(cfg.baseUrl + 'api', PROBE_MS)
            .then(function (r) { if (!r.ok) { throw new Error('HTTP ' + r.status); } })
            .then(function () {
              setState('starting');
              addThebeConfig({});
              bootstrapWith({
                useBinder: false, useJupyterLite: false, requestKernel: true,
                serverSettings: {baseUrl: cfg.baseUrl, wsUrl: cfg.wsUrl, token: cfg.token || '', appendToken: false},
              });
              original();
              followThebe('Local Jupyter server (' + cfg.baseUrl + '):', LOCAL_KERNEL_MS);
            }, function (err) {
              showHelp('The local Jupyter server at ' + cfg.baseUrl + ' does not answer (' + err.message +
                       '): is `make live` still running?', original);
            });
        });
      return;
    }
    // The published site: a kernel on Binder, if the BinderHub can be reached at all.
    var binder = binderLink();
    var hub = binder ? new URL(binder).origin : 'https://mybinder.org';
    fetchWithin(hub + '/health', PROBE_MS * 2, {mode: 'no-cors'}).then(function () {
      startBinder(original);
    }, function () {
      showHelp(hub.replace(/^https?:\/\//, '') + ' cannot be reached (offline?), so no kernel can be started for this page.');
    });
  }

  function wrap() {
    var original = window.initThebe;
    if (typeof original !== 'function' || original.tflminiLive) { return; }
    var wrapped = function () { return start(original); };
    wrapped.tflminiLive = true;
    window.initThebe = wrapped;
  }

  wrap();  // sphinx-thebe.js is loaded async: wrap it whenever it is there
  document.addEventListener('DOMContentLoaded', wrap);
  window.addEventListener('load', wrap);
})();
