/*
 * ARRS Assistant enquiry widget.
 *
 * Embed with one line:
 *   <script src="https://HOST/widget.js" data-api="https://HOST" defer></script>
 *
 * Plain JavaScript, no build step, no third-party code. Everything lives in a Shadow DOM so the
 * host page's CSS cannot reach it. Text from answers, questions and documents is only ever put
 * into the page through textContent / createElement: no HTML from the network is ever parsed.
 */
(function () {
  "use strict";

  if (window.__arrsAssistantWidget) return; // embedded twice: keep the first
  window.__arrsAssistantWidget = true;

  var script =
    document.currentScript ||
    document.querySelector('script[src*="widget.js"][data-api]') ||
    document.querySelector('script[src*="widget.js"]');
  var API = apiBase(script);
  var SESSION_KEY = "arrs-assistant-session";
  var HISTORY_KEY = "arrs-assistant-history";
  var OPEN_KEY = "arrs-assistant-open";
  var MAX_CHARS = 2000;
  var MAX_HISTORY = 40;
  var STARTERS = [
    "Which roles can a PCN claim for under ARRS?",
    "What is the maximum reimbursement for a clinical pharmacist in 2025/26?",
    "How much can we claim for a pharmacy technician at 0.6 WTE from April to September 2025?",
    "Can I book a free consultation?",
  ];
  var LONDON_TIME = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Europe/London",
    weekday: "short",
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
  });

  var CSS = [
    ":host{all:initial !important;}",
    "*,*::before,*::after{box-sizing:border-box;}",
    ".root{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;color:#1d2430;}",
    ".launcher{position:fixed;right:16px;bottom:16px;z-index:2147483000;display:flex;align-items:center;gap:8px;",
    "padding:12px 18px;border:0;border-radius:999px;background:#005eb8;color:#fff;font:inherit;font-weight:600;",
    "cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);max-width:calc(100vw - 32px);}",
    ".launcher:hover{background:#004c96;}",
    ".launcher:focus-visible,button:focus-visible,a:focus-visible,textarea:focus-visible{outline:3px solid #ffb81c;outline-offset:2px;}",
    ".launcher[hidden],.panel[hidden]{display:none;}",
    ".panel{position:fixed;right:16px;bottom:16px;z-index:2147483001;width:min(400px,calc(100vw - 32px));",
    "height:min(640px,calc(100vh - 32px));display:flex;flex-direction:column;background:#fff;border-radius:14px;",
    "box-shadow:0 10px 40px rgba(0,0,0,.3);overflow:hidden;}",
    "@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;height:100%;max-height:100dvh;border-radius:0;}}",
    ".head{display:flex;align-items:flex-start;gap:8px;padding:12px 14px;background:#005eb8;color:#fff;}",
    ".head h2{margin:0;font-size:16px;line-height:1.3;}",
    ".head p{margin:2px 0 0;font-size:12px;opacity:.9;}",
    ".head .titles{flex:1;min-width:0;}",
    ".icon{border:0;background:transparent;color:inherit;font:inherit;font-size:20px;line-height:1;cursor:pointer;",
    "padding:4px 8px;border-radius:6px;}",
    ".icon:hover{background:rgba(255,255,255,.15);}",
    ".log{flex:1;overflow-y:auto;overflow-x:hidden;padding:12px 14px;display:flex;flex-direction:column;gap:10px;background:#f4f6f9;}",
    ".msg{max-width:92%;padding:9px 12px;border-radius:12px;overflow-wrap:anywhere;word-break:break-word;}",
    ".msg.user{align-self:flex-end;background:#005eb8;color:#fff;white-space:pre-wrap;}",
    ".msg.bot{align-self:flex-start;background:#fff;border:1px solid #d8dde6;}",
    ".msg.bot.has-calc{align-self:stretch;max-width:100%;}",
    ".msg.error{align-self:stretch;background:#fdecea;border:1px solid #f1aeb5;color:#7a1d1d;}",
    ".msg p{margin:0 0 8px;}.msg p:last-child{margin-bottom:0;}",
    ".msg ul,.msg ol{margin:0 0 8px;padding-left:20px;}",
    ".msg a{color:#005eb8;}",
    ".cite{font-size:12px;font-weight:600;text-decoration:none;vertical-align:super;padding:0 1px;}",
    ".cite:hover{text-decoration:underline;}",
    ".sources{margin-top:8px;padding-top:6px;border-top:1px solid #e3e7ee;font-size:12px;}",
    ".sources summary{cursor:pointer;font-weight:600;color:#4c5566;}",
    ".calc h3{margin:0 0 4px;font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#4c5566;}",
    ".sources ol{margin:0;padding-left:20px;}",
    ".calc{margin-top:8px;}",
    ".table-wrap{max-width:100%;overflow-x:auto;}",
    ".calc table{border-collapse:collapse;font-size:12px;width:100%;}",
    ".calc th,.calc td{border:1px solid #d8dde6;padding:3px 6px;text-align:left;vertical-align:top;white-space:nowrap;overflow-wrap:normal;word-break:normal;}",
    ".calc td.num,.calc th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap;}",
    ".calc tfoot td,.calc tfoot th{font-weight:600;background:#f4f6f9;}",
    ".rate{display:flex;align-items:center;gap:6px;margin-top:8px;font-size:12px;color:#4c5566;}",
    ".rate button{display:inline-flex;align-items:center;border:1px solid #c5ccd8;background:#fff;color:#4c5566;border-radius:6px;padding:3px 8px;cursor:pointer;font:inherit;}",
    ".rate button[aria-pressed=true]{background:#e3eefb;border-color:#005eb8;color:#005eb8;}",
    ".slots{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px;}",
    ".slots button,.starters button{border:1px solid #005eb8;background:#fff;color:#005eb8;border-radius:999px;",
    "padding:5px 10px;font:inherit;font-size:13px;cursor:pointer;text-align:left;}",
    ".slots button:hover,.starters button:hover{background:#e3eefb;}",
    ".confirm{margin-top:8px;padding:8px;border-radius:8px;background:#e8f5ec;border:1px solid #9bd0ab;}",
    ".starters{display:flex;flex-wrap:wrap;gap:6px;padding:0 14px 10px;background:#f4f6f9;}",
    ".starters[hidden]{display:none;}",
    ".typing{color:#4c5566;font-style:italic;}",
    "form{display:flex;gap:8px;padding:10px 12px;border-top:1px solid #d8dde6;background:#fff;}",
    "textarea{flex:1;min-width:0;resize:none;border:1px solid #c5ccd8;border-radius:8px;padding:8px;font:inherit;",
    "max-height:120px;color:inherit;background:#fff;}",
    ".send{border:0;border-radius:8px;background:#005eb8;color:#fff;font:inherit;font-weight:600;padding:0 14px;cursor:pointer;}",
    ".send:disabled{opacity:.6;cursor:default;}",
    ".foot{margin:0;padding:0 14px 8px;font-size:11px;color:#5b6472;background:#fff;}",
    ".sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);border:0;}",
  ].join("\n");

  // ---------------------------------------------------------------------------------------------
  // Small DOM helpers: every string goes in as text, never as markup.

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === null || value === undefined || value === false) return;
        if (key === "text") node.textContent = String(value);
        else if (key === "className") node.className = value;
        else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
        else node.setAttribute(key, value === true ? "" : String(value));
      });
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  var ICONS = {
    chat: "M20 2H4c-1.1 0-2 .9-2 2v18l4-4h14c1.1 0 2-.9 2-2V4c0-1.1-.9-2-2-2z",
    thumb:
      "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.71v-2z",
  };

  function icon(name, flip) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "16");
    svg.setAttribute("height", "16");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", ICONS[name]);
    path.setAttribute("fill", "currentColor");
    if (flip) path.setAttribute("transform", "rotate(180 12 12)");
    svg.appendChild(path);
    return svg;
  }

  function apiBase(tag) {
    var declared = tag && tag.getAttribute("data-api");
    var base = declared || (tag && tag.src ? new URL(tag.src, location.href).origin : location.origin);
    return String(base).replace(/\/+$/, "");
  }

  function safeUrl(url) {
    try {
      var parsed = new URL(String(url), API + "/");
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  function store(kind) {
    try {
      return window[kind];
    } catch (e) {
      return null; // storage blocked (privacy settings): the widget still works, unremembered
    }
  }

  function remember(key, value) {
    var s = store("sessionStorage");
    if (!s) return;
    try {
      if (value === null) s.removeItem(key);
      else s.setItem(key, typeof value === "string" ? value : JSON.stringify(value));
    } catch (e) {
      /* quota or privacy mode: not fatal */
    }
  }

  function recall(key, parse) {
    var s = store("sessionStorage");
    if (!s) return null;
    try {
      var raw = s.getItem(key);
      return raw && parse ? JSON.parse(raw) : raw;
    } catch (e) {
      return null;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Markdown-lite rendering of an answer: paragraphs, lists, **bold**, `code`, [n] citations and
  // http(s) links. Anything else stays literal text.

  var INLINE = /\*\*([^*]+)\*\*|`([^`]+)`|\[(\d+(?:\s*,\s*\d+)*)\](?!\()|\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)/g;

  function renderInline(parent, text, citations) {
    var last = 0;
    var match;
    INLINE.lastIndex = 0;
    while ((match = INLINE.exec(text)) !== null) {
      if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      if (match[1] !== undefined) parent.appendChild(el("strong", { text: match[1] }));
      else if (match[2] !== undefined) parent.appendChild(el("code", { text: match[2] }));
      else if (match[3] !== undefined) {
        match[3].split(",").forEach(function (n) {
          parent.appendChild(citationLink(Number(n.trim()), citations));
        });
      } else {
        var href = safeUrl(match[5]);
        parent.appendChild(
          href
            ? el("a", { href: href, target: "_blank", rel: "noopener noreferrer", text: match[4] })
            : document.createTextNode(match[0])
        );
      }
      last = INLINE.lastIndex;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function citationTitle(citation) {
    return [citation.title, citation.section].filter(Boolean).join(" — ");
  }

  function citationLink(n, citations) {
    var citation = (citations || []).filter(function (c) {
      return c.n === n;
    })[0];
    var label = "[" + n + "]";
    if (!citation) return document.createTextNode(label);
    var href = safeUrl(citation.url);
    var title = citationTitle(citation);
    if (!href) return el("span", { className: "cite", title: title, text: label });
    return el("a", {
      className: "cite",
      href: href,
      target: "_blank",
      rel: "noopener noreferrer",
      title: title,
      "aria-label": "Source " + n + ": " + title + " (opens in a new tab)",
      "data-citation": n,
      text: label,
    });
  }

  function renderMarkdown(container, markdown, citations) {
    var blocks = String(markdown || "").replace(/\r\n?/g, "\n").split(/\n{2,}/);
    blocks.forEach(function (block) {
      var lines = block.split("\n").filter(function (line) {
        return line.trim() !== "";
      });
      if (!lines.length) return;
      var bullet = /^\s*[-*•]\s+/;
      var numbered = /^\s*\d+[.)]\s+/;
      if (lines.every(function (l) { return bullet.test(l); }) || lines.every(function (l) { return numbered.test(l); })) {
        var list = el(bullet.test(lines[0]) ? "ul" : "ol");
        lines.forEach(function (line) {
          var item = el("li");
          renderInline(item, line.replace(bullet, "").replace(numbered, ""), citations);
          list.appendChild(item);
        });
        container.appendChild(list);
        return;
      }
      var paragraph = el("p");
      lines.forEach(function (line, i) {
        if (i) paragraph.appendChild(el("br"));
        var heading = /^#{1,6}\s+(.*)$/.exec(line);
        if (heading) paragraph.appendChild(el("strong", { text: heading[1] }));
        else renderInline(paragraph, line, citations);
      });
      container.appendChild(paragraph);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Calculation breakdown: a small table of the rows the calculator returns.

  // Columns per calculation kind, as `arrs calc` prints them; other kinds fall back to the scalars.
  var CALC_COLUMNS = {
    claim: [["start", "From"], ["end", "To"], ["months", "Months"], ["annual_rate", "Annual max"], ["cap", "Cap"], ["actual", "Actual"], ["claim", "Claim"]],
    pcn_sum: [["part", "Part"], ["per_weighted_patient", "£ per weighted patient"], ["covers_from", "From"], ["covers_to", "To"], ["amount", "Amount"]],
    afford: [["effective_from", "From"], ["effective_to", "To"], ["band", "Band"], ["annual", "Annual max"], ["status", "Status"]],
    employment_cost: [["name", "Part"], ["base", "On"], ["rate", "Rate"], ["threshold", "Threshold"], ["amount", "Amount"]],
    max_amount: [["effective_from", "From"], ["effective_to", "To"], ["band", "Band"], ["annual", "Annual max"], ["status", "Status"]],
    headroom: [["role_name", "Role"], ["count", "Posts"], ["wte", "WTE"], ["part", "Part"], ["months_costed", "Months"], ["cost", "Cost"]],
  };
  var CALC_TOTALS = {
    claim: ["claim", "Claimable"],
    pcn_sum: ["total", "Total"],
    employment_cost: ["total", "Total cost"],
    headroom: ["headroom_total", "Headroom"],
    afford: ["wte", "WTE funded"],
  };
  var MONEY_KEYS = ["annual", "annual_rate", "monthly_cap", "cap", "actual", "claim", "amount", "base", "cost", "threshold", "total", "headroom_total"];
  var POUNDS = new Intl.NumberFormat("en-GB", { style: "currency", currency: "GBP" });
  var DAY = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });

  function isScalar(value) {
    return value === null || ["string", "number", "boolean"].indexOf(typeof value) >= 0;
  }

  function cellText(key, value) {
    if (value === null || value === undefined) return "";
    if (MONEY_KEYS.indexOf(key) >= 0 && /^-?\d+(\.\d+)?$/.test(String(value))) return POUNDS.format(Number(value));
    if (/^\d{4}-\d{2}-\d{2}$/.test(String(value))) return DAY.format(new Date(String(value) + "T12:00:00Z"));
    if (Array.isArray(value)) return value.join("; ");
    return String(value).replace(/_/g, " ");
  }

  function isNumberCell(key, value) {
    return MONEY_KEYS.indexOf(key) >= 0 || typeof value === "number" || /^-?\d+(\.\d+)?$/.test(String(value));
  }

  function renderCalculation(calculation) {
    var rows = calculation && calculation.breakdown;
    if (!Array.isArray(rows) || !rows.length || typeof rows[0] !== "object" || rows[0] === null) return null;
    var columns = (CALC_COLUMNS[calculation.kind] || Object.keys(rows[0]).filter(function (key) {
      return isScalar(rows[0][key]) && key !== "source_url";
    }).slice(0, 6).map(function (key) {
      return [key, key.charAt(0).toUpperCase() + key.slice(1).replace(/_/g, " ")];
    })).filter(function (column) {
      return rows.some(function (row) { return row[column[0]] !== null && row[column[0]] !== undefined; });
    });
    var head = el("tr", null, columns.map(function (column) {
      return el("th", { scope: "col", className: isNumberCell(column[0], rows[0][column[0]]) ? "num" : null, text: column[1] });
    }));
    var body = rows.map(function (row) {
      return el("tr", null, columns.map(function (column) {
        var value = row[column[0]];
        return el("td", { className: isNumberCell(column[0], value) ? "num" : null, text: cellText(column[0], value) });
      }));
    });
    var table = el("table", null, [
      el("caption", { className: "sr-only", text: "Calculation breakdown" }),
      el("thead", null, [head]),
      el("tbody", null, body),
    ]);
    var total = CALC_TOTALS[calculation.kind];
    var figures = calculation.result || {};
    if (total && isScalar(figures[total[0]]) && figures[total[0]] !== null && columns.length) {
      var cells = [el("td", { className: "num", text: cellText(total[0], figures[total[0]]) })];
      if (columns.length > 1) cells.unshift(el("th", { scope: "row", colspan: String(columns.length - 1), text: total[1] }));
      table.appendChild(el("tfoot", null, [el("tr", null, cells)]));
    }
    return el("div", { className: "calc", "data-kind": String(calculation.kind || "") }, [
      el("h3", { text: "Breakdown" }),
      el("div", { className: "table-wrap", tabindex: "0", role: "region", "aria-label": "Calculation breakdown" }, [table]),
    ]);
  }

  // ---------------------------------------------------------------------------------------------
  // The widget.

  function Widget() {
    this.sessionId = recall(SESSION_KEY);
    this.history = recall(HISTORY_KEY, true) || [];
    this.busy = false;
    this.build();
    this.history.forEach(this.replay, this);
    if (this.history.length) this.starters.hidden = true;
    if (recall(OPEN_KEY) === "1") this.open(false);
  }

  Widget.prototype.build = function () {
    var self = this;
    this.host = el("div", { id: "arrs-assistant-widget", "data-arrs-widget": "" });
    var root = this.host.attachShadow({ mode: "open" });
    this.root = root;
    applyStyles(root);

    this.launcher = el("button", {
      type: "button",
      className: "launcher",
      "aria-haspopup": "dialog",
      "aria-expanded": "false",
      "aria-controls": "arrs-panel",
      onclick: function () {
        self.open(true);
      },
    }, [icon("chat"), "Ask about ARRS"]);

    this.log = el("div", {
      className: "log",
      role: "log",
      "aria-live": "polite",
      "aria-relevant": "additions",
      "aria-label": "Conversation",
      tabindex: "0",
    });
    this.log.appendChild(this.botText(
      "Hello! I answer questions about the Additional Roles Reimbursement Scheme (ARRS) from NHS England guidance, with sources, and can work out reimbursement figures or book a free consultation."
    ));

    this.starters = el("div", { className: "starters", role: "group", "aria-label": "Suggested questions" },
      STARTERS.map(function (text) {
        return el("button", { type: "button", text: text, onclick: function () { self.ask(text); } });
      }));

    this.input = el("textarea", {
      id: "arrs-input",
      rows: "2",
      maxlength: String(MAX_CHARS),
      placeholder: "Ask about ARRS roles, funding or claims…",
      "aria-label": "Your question",
      autocomplete: "off",
    });
    this.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        self.submit();
      }
    });
    this.sendButton = el("button", { type: "submit", className: "send", text: "Send", "aria-label": "Send question" });
    var form = el("form", {
      onsubmit: function (event) {
        event.preventDefault();
        self.submit();
      },
    }, [this.input, this.sendButton]);

    this.panel = el("section", {
      id: "arrs-panel",
      className: "panel",
      role: "dialog",
      "aria-modal": "false",
      "aria-labelledby": "arrs-title",
      "aria-describedby": "arrs-subtitle",
      hidden: true,
    }, [
      el("div", { className: "head" }, [
        el("div", { className: "titles" }, [
          el("h2", { id: "arrs-title", text: "ARRS Assistant" }),
          el("p", { id: "arrs-subtitle", text: "Answers from NHS England ARRS guidance, with sources." }),
        ]),
        el("button", { type: "button", className: "icon", "aria-label": "Start a new conversation", title: "New conversation", text: "↺", onclick: function () { self.reset(); } }),
        el("button", { type: "button", className: "icon", "aria-label": "Close chat", title: "Close", text: "×", onclick: function () { self.close(); } }),
      ]),
      this.log,
      this.starters,
      form,
      el("p", { className: "foot", text: "Not clinical or legal advice. Check figures against the current guidance before you claim." }),
    ]);
    this.panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.stopPropagation();
        self.close();
      }
    });

    root.appendChild(el("div", { className: "root" }, [this.launcher, this.panel]));
    document.body.appendChild(this.host);
  };

  function applyStyles(root) {
    // A constructed stylesheet is not inline markup, so a strict host-page CSP still allows it.
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      root.appendChild(el("style", { text: CSS }));
    }
  }

  Widget.prototype.open = function (focus) {
    this.panel.hidden = false;
    this.launcher.hidden = true;
    this.launcher.setAttribute("aria-expanded", "true");
    remember(OPEN_KEY, "1");
    this.scrollDown();
    if (focus) this.input.focus();
  };

  Widget.prototype.close = function () {
    this.panel.hidden = true;
    this.launcher.hidden = false;
    this.launcher.setAttribute("aria-expanded", "false");
    remember(OPEN_KEY, null);
    this.launcher.focus();
  };

  Widget.prototype.reset = function () {
    this.sessionId = null;
    this.history = [];
    remember(SESSION_KEY, null);
    remember(HISTORY_KEY, null);
    while (this.log.childNodes.length > 1) this.log.removeChild(this.log.lastChild);
    this.starters.hidden = false;
    this.input.focus();
  };

  Widget.prototype.scrollDown = function () {
    this.log.scrollTop = this.log.scrollHeight;
  };

  Widget.prototype.botText = function (text) {
    var bubble = el("div", { className: "msg bot" });
    renderMarkdown(bubble, text, []);
    return bubble;
  };

  Widget.prototype.addUser = function (text) {
    var bubble = el("div", { className: "msg user", text: text });
    this.log.appendChild(bubble);
    this.scrollDown();
    return bubble;
  };

  Widget.prototype.addError = function (text) {
    var bubble = el("div", { className: "msg error", role: "alert", text: text });
    this.log.appendChild(bubble);
    this.scrollDown();
  };

  Widget.prototype.submit = function () {
    var text = this.input.value.trim();
    if (!text || this.busy) return;
    this.input.value = "";
    this.ask(text);
  };

  Widget.prototype.setBusy = function (busy) {
    this.busy = busy;
    this.sendButton.disabled = busy;
    this.log.setAttribute("aria-busy", busy ? "true" : "false");
  };

  Widget.prototype.record = function (entry) {
    this.history.push(entry);
    if (this.history.length > MAX_HISTORY) this.history = this.history.slice(-MAX_HISTORY);
    remember(HISTORY_KEY, this.history);
  };

  Widget.prototype.replay = function (entry) {
    if (entry.user) this.addUser(entry.user);
    else if (entry.answer) this.renderAnswer(this.newBotBubble(), entry.answer, false);
  };

  Widget.prototype.newBotBubble = function () {
    var bubble = el("div", { className: "msg bot", "data-role": "answer" });
    this.log.appendChild(bubble);
    return bubble;
  };

  // Ask: POST to the stream endpoint, show `delta` pieces as they arrive, then the full answer.
  Widget.prototype.ask = function (text, shown) {
    var self = this;
    if (this.busy) return Promise.resolve();
    this.starters.hidden = true;
    var label = shown || text;
    this.addUser(label);
    this.record({ user: label });
    this.setBusy(true);
    var bubble = this.newBotBubble();
    bubble.setAttribute("aria-busy", "true");
    bubble.appendChild(el("span", { className: "typing", text: "Thinking…" }));
    this.scrollDown();
    var streamed = "";

    return fetch(API + "/api/ask/stream", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream", "X-ARRS-Client": "widget" },
      body: JSON.stringify(this.sessionId ? { question: text, session_id: this.sessionId } : { question: text }),
      credentials: "omit",
    })
      .then(function (response) {
        if (!response.ok) return errorMessage(response).then(function (message) { throw new Error(message); });
        return readEvents(response, function (event, data) {
          if (event === "delta") {
            streamed += data.text || "";
            bubble.setAttribute("data-deltas", String(Number(bubble.getAttribute("data-deltas") || 0) + 1));
            bubble.textContent = "";
            renderMarkdown(bubble, streamed, []);
            self.scrollDown();
          } else if (event === "final") {
            self.renderAnswer(bubble, data, true);
          }
        });
      })
      .catch(function (error) {
        bubble.remove();
        self.addError(error && error.message ? error.message : "The assistant could not be reached. Please try again.");
      })
      .then(function () {
        bubble.removeAttribute("aria-busy");
        self.setBusy(false);
      });
  };

  function errorMessage(response) {
    return response
      .json()
      .then(function (body) {
        if (response.status === 429) {
          var wait = response.headers.get("Retry-After");
          return "You're asking faster than we can answer. Please wait" + (wait ? " " + wait + " seconds" : " a moment") + " and try again.";
        }
        return (body && body.message) || "Something went wrong (" + response.status + ").";
      })
      .catch(function () {
        return "Something went wrong (" + response.status + "). Please try again.";
      });
  }

  // Server-Sent Events over fetch: a ReadableStream of "event: x\ndata: {...}\n\n" blocks.
  function readEvents(response, onEvent) {
    if (!response.body || !response.body.getReader) {
      return response.text().then(function (text) {
        parseBlocks(text + "\n\n", onEvent);
      });
    }
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) {
          parseBlocks(buffer + "\n\n", onEvent);
          return;
        }
        buffer += decoder.decode(chunk.value, { stream: true });
        buffer = parseBlocks(buffer, onEvent);
        return pump();
      });
    }
    return pump();
  }

  function parseBlocks(buffer, onEvent) {
    var normalised = buffer.replace(/\r\n?/g, "\n");
    var parts = normalised.split("\n\n");
    var rest = parts.pop();
    parts.forEach(function (block) {
      var event = "message";
      var data = [];
      block.split("\n").forEach(function (line) {
        if (line.indexOf("event:") === 0) event = line.slice(6).trim();
        else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
      });
      if (!data.length) return;
      var payload;
      try {
        payload = JSON.parse(data.join("\n"));
      } catch (e) {
        return;
      }
      onEvent(event, payload);
    });
    return rest;
  }

  Widget.prototype.renderAnswer = function (bubble, answer, fresh) {
    var self = this;
    bubble.textContent = "";
    if (answer.session_id) {
      this.sessionId = answer.session_id;
      remember(SESSION_KEY, answer.session_id);
    }
    var citations = Array.isArray(answer.citations) ? answer.citations : [];
    bubble.setAttribute("data-intent", String(answer.intent || ""));
    renderMarkdown(bubble, answer.answer, citations);

    var calc = answer.calculation ? renderCalculation(answer.calculation) : null;
    if (calc) {
      bubble.classList.add("has-calc");
      bubble.appendChild(calc);
    }

    var used = citations.filter(function (c) { return safeUrl(c.url); });
    if (used.length) {
      bubble.appendChild(el("details", { className: "sources", open: used.length <= 3 }, [
        el("summary", { text: "Sources (" + used.length + ")" }),
        el("ol", null, used.map(function (c) {
          return el("li", { value: String(c.n) }, [
            el("a", { href: safeUrl(c.url), target: "_blank", rel: "noopener noreferrer", text: citationTitle(c) || c.url }),
          ]);
        })),
      ]));
    }

    if (answer.booking) this.renderBooking(bubble, answer.booking, fresh);
    if (answer.turn && answer.session_id) bubble.appendChild(this.ratingRow(answer));
    if (fresh) this.record({ answer: answer });
    // Show the start of the answer rather than its end: long answers read from the top.
    var anchor = bubble.previousElementSibling || bubble;
    this.log.scrollTop = Math.max(0, anchor.offsetTop - this.log.offsetTop - 12);
  };

  Widget.prototype.renderBooking = function (bubble, booking, fresh) {
    var self = this;
    var options = Array.isArray(booking.slot_options) && booking.slot_options.length
      ? booking.slot_options
      : (booking.offered_slots || []).map(function (start, i) { return { n: i + 1, start: start }; });
    if (booking.status === "booked" || booking.reference) {
      var reference = String(booking.booking_id || booking.reference || "");
      var path = booking.invite_path || (reference ? "/api/bookings/" + encodeURIComponent(reference) + ".ics" : "");
      var invite = path && path.charAt(0) === "/" ? safeUrl(API + path) : null;
      bubble.appendChild(el("div", { className: "confirm", role: "status" }, [
        el("strong", { text: "Booked" }),
        booking.slot ? " — " + formatSlot(booking.slot) + " (UK time)" : "",
        invite ? el("br") : null,
        invite ? el("a", { href: invite, download: "consultation.ics", "data-invite": "", text: "Add to your calendar (.ics)" }) : null,
      ]));
      return;
    }
    if (!fresh || !booking.active || !booking.pending_field) return;
    if (booking.pending_field !== "slot" || !options.length) {
      var quick = el("div", { className: "slots", role: "group", "aria-label": "Quick replies" });
      if ((booking.optional || []).indexOf(booking.pending_field) >= 0) quick.appendChild(this.quickReply(quick, "skip", "Skip"));
      quick.appendChild(this.quickReply(quick, "cancel", "Cancel booking"));
      bubble.appendChild(quick);
      return;
    }
    var group = el("div", { className: "slots", role: "group", "aria-label": "Available consultation times (UK time)" });
    options.forEach(function (option) {
      var label = option.label || formatSlot(option.start);
      group.appendChild(el("button", {
        type: "button",
        "data-slot": option.start,
        text: formatSlot(option.start),
        title: label,
        "aria-label": "Book " + label + " UK time",
        onclick: function () {
          if (self.busy) return;
          group.remove();
          self.ask(String(option.start), formatSlot(option.start));
        },
      }));
    });
    group.appendChild(this.quickReply(group, "more", "Later times…"));
    group.appendChild(this.quickReply(group, "cancel", "Cancel booking"));
    bubble.appendChild(group);
  };

  Widget.prototype.quickReply = function (group, message, label) {
    var self = this;
    return el("button", {
      type: "button",
      text: label,
      onclick: function () {
        if (self.busy) return;
        group.remove();
        self.ask(message, label);
      },
    });
  };

  function formatSlot(iso) {
    var date = new Date(iso);
    return isNaN(date.getTime()) ? String(iso) : LONDON_TIME.format(date);
  }

  Widget.prototype.ratingRow = function (answer) {
    var self = this;
    var status = el("span", { className: "rate-status", role: "status" });
    var buttons = [];
    function rate(rating) {
      buttons.forEach(function (b) {
        b.setAttribute("aria-pressed", b.getAttribute("data-rating") === rating ? "true" : "false");
      });
      return fetch(API + "/api/feedback", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-ARRS-Client": "widget" },
        body: JSON.stringify({ session_id: answer.session_id, turn: answer.turn, rating: rating }),
        credentials: "omit",
      })
        .then(function (response) {
          status.textContent = response.ok ? "Thanks for the feedback." : "Feedback could not be saved.";
        })
        .catch(function () {
          status.textContent = "Feedback could not be saved.";
        });
    }
    [["up", "Helpful"], ["down", "Not helpful"]].forEach(function (spec) {
      buttons.push(el("button", {
        type: "button",
        "data-rating": spec[0],
        "aria-pressed": "false",
        "aria-label": spec[1],
        title: spec[1],
        onclick: function () { rate(spec[0]); },
      }, [icon("thumb", spec[0] === "down")]));
    });
    return el("div", { className: "rate" }, [el("span", { text: "Was this helpful?" })].concat(buttons, [status]));
  };

  function boot() {
    if (!document.body) return;
    var widget = new Widget();
    window.ArrsAssistant = {
      open: function () { widget.open(true); },
      close: function () { widget.close(); },
    };
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
