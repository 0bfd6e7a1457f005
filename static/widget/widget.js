/*
 * The ordering assistant's chat widget. Plain JavaScript, no build step, no framework, no CDN.
 *
 * Embed it with one tag (it injects its own stylesheet, launcher button and panel):
 *
 *   <script src="/static/widget/widget.js" defer
 *           data-user-id="{{ user.pk }}"            (empty or absent: signed out, the panel asks to sign in)
 *           data-login-url="/accounts/login/?next=/"
 *           data-settings-url="/settings/"
 *           data-api="/api/v1/"></script>
 *
 * Every text comes from the server and is put in the page with textContent, never as HTML.
 * See docs/widget.md.
 */
(function () {
  "use strict";

  var script = document.currentScript || document.querySelector("script[src*='widget/widget.js']");
  if (!script || window.__orderingAssistantWidget) {
    return;
  }
  window.__orderingAssistantWidget = true;

  var config = {
    userId: (script.getAttribute("data-user-id") || "").trim(),
    api: script.getAttribute("data-api") || "/api/v1/",
    loginUrl:
      script.getAttribute("data-login-url") ||
      "/accounts/login/?next=" + encodeURIComponent(window.location.pathname + window.location.search),
    settingsUrl: script.getAttribute("data-settings-url") || "/settings/",
    title: script.getAttribute("data-title") || "Ordering assistant",
  };
  var STORAGE_PREFIX = "ordering-assistant:";
  var POLL_FAST_MS = 1000;
  var POLL_SLOW_MS = 15000;
  var POLL_OFFLINE_MAX_MS = 30000;
  var POLL_ESCALATED_MAX_MS = 4000; // a specialist may answer at any moment: keep looking often
  var FLOW_IN_PROGRESS = ["confirmed", "placing", "compensating"];
  var FLOW_WORDS = {
    previewed: "Waiting for your confirmation",
    confirmed: "Confirmed, placing your order…",
    placing: "Placing your order…",
    placed: "Order placed",
    requires_action: "A specialist is looking at this",
    escalated: "A specialist is looking at this",
    failed: "Not placed",
    compensating: "Not placed; undoing the steps…",
    compensated: "Not placed; nothing was charged",
    canceled: "Cancelled",
    declined: "Cancelled: you declined it",
    expired: "Expired",
  };

  // -- small helpers ----------------------------------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function storage(kind) {
    try {
      var store = window[kind];
      store.setItem(STORAGE_PREFIX + "probe", "1");
      store.removeItem(STORAGE_PREFIX + "probe");
      return store;
    } catch (error) {
      return null; // private mode or blocked storage: the widget still works, it just forgets
    }
  }
  var local = storage("localStorage");
  var session = storage("sessionStorage");

  function remember(store, key, value) {
    if (!store) return;
    if (value === null || value === undefined) store.removeItem(STORAGE_PREFIX + key);
    else store.setItem(STORAGE_PREFIX + key, value);
  }

  function recall(store, key) {
    return store ? store.getItem(STORAGE_PREFIX + key) : null;
  }

  function cookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : "";
  }

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return "k-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function money(amount, currency) {
    if (typeof amount !== "number") return "";
    var code = (currency || "usd").toUpperCase();
    try {
      var format = new Intl.NumberFormat("en-US", { style: "currency", currency: code });
      var digits = format.resolvedOptions().maximumFractionDigits;
      return format.format(amount / Math.pow(10, digits));
    } catch (error) {
      return (amount / 100).toFixed(2) + " " + code;
    }
  }

  function sameSiteImage(url) {
    // Only pictures served by this site: a message must never make the browser call a third party.
    if (!url || typeof url !== "string") return null;
    try {
      var parsed = new URL(url, window.location.href);
      return parsed.origin === window.location.origin ? parsed.href : null;
    } catch (error) {
      return null;
    }
  }

  function capitalise(text) {
    return text ? text.charAt(0).toUpperCase() + text.slice(1) : text;
  }

  // -- the API ----------------------------------------------------------------------------------

  function ApiError(status, body, networkDown) {
    this.status = status;
    this.body = body || {};
    this.networkDown = !!networkDown;
    this.message = (body && body.message) || "";
  }

  function api(method, path, body, headers) {
    var options = {
      method: method,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    };
    if (method !== "GET") {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = cookie("csrftoken");
      options.body = JSON.stringify(body || {});
    }
    Object.keys(headers || {}).forEach(function (name) {
      options.headers[name] = headers[name];
    });
    return fetch(config.api + path, options).then(
      function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (data) {
            if (!response.ok) throw new ApiError(response.status, data, false);
            return data;
          });
      },
      function () {
        throw new ApiError(0, null, true);
      }
    );
  }

  function explain(error) {
    if (error.networkDown) {
      return "You seem to be offline, or the shop can't be reached. I'll keep trying; your message was not lost.";
    }
    if (error.status === 429) {
      return error.message || "You're sending messages too quickly. Please wait a moment and try again.";
    }
    if (error.status === 401 || error.status === 403) {
      if (error.body && error.body.error === "not_authenticated") return "Please sign in again to keep chatting.";
      return error.message || "That was refused. Please reload the page and try again.";
    }
    if (error.status >= 500) return "Something went wrong on our side. Please try again in a moment.";
    return error.message || "That didn't work. Please try again.";
  }

  // -- the DOM ----------------------------------------------------------------------------------

  var stylesheet = document.createElement("link");
  stylesheet.rel = "stylesheet";
  stylesheet.href = script.src.replace(/widget\.js(\?.*)?$/, "widget.css");
  document.head.appendChild(stylesheet);

  var root = el("div", "oaw-root");
  root.setAttribute("data-oaw", "");

  var launcher = el("button", "oaw-launcher");
  launcher.type = "button";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "oaw-panel");
  launcher.setAttribute("aria-label", "Chat with the ordering assistant");
  launcher.appendChild(el("span", "oaw-launcher-icon")).setAttribute("aria-hidden", "true");
  launcher.appendChild(el("span", "oaw-launcher-text", "Ask the assistant"));

  var panel = el("section", "oaw-panel");
  panel.id = "oaw-panel";
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-modal", "false");
  panel.setAttribute("aria-labelledby", "oaw-title");

  var header = el("header", "oaw-header");
  var titleBox = el("div", "oaw-title-box");
  var title = el("h2", "oaw-title", config.title);
  title.id = "oaw-title";
  var subtitle = el("p", "oaw-subtitle", "Orders for you, only after you confirm");
  subtitle.id = "oaw-subtitle";
  titleBox.appendChild(title);
  titleBox.appendChild(subtitle);
  var closeButton = el("button", "oaw-icon-button oaw-close");
  closeButton.type = "button";
  closeButton.setAttribute("aria-label", "Close the chat");
  closeButton.appendChild(el("span", "", "×")).setAttribute("aria-hidden", "true");
  header.appendChild(titleBox);
  header.appendChild(closeButton);

  var banner = el("p", "oaw-banner");
  banner.hidden = true;
  banner.setAttribute("role", "status");

  var log = el("div", "oaw-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-relevant", "additions");
  log.setAttribute("aria-label", "Conversation");
  log.tabIndex = 0;

  var typing = el("div", "oaw-typing");
  typing.hidden = true;
  typing.setAttribute("aria-hidden", "true");
  typing.appendChild(el("span", "oaw-dot"));
  typing.appendChild(el("span", "oaw-dot"));
  typing.appendChild(el("span", "oaw-dot"));

  // Announced to screen readers: "typing", "sent", connection problems that are not errors.
  var status = el("p", "oaw-status");
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");

  var alertBox = el("p", "oaw-alert");
  alertBox.hidden = true;
  alertBox.setAttribute("role", "alert");

  var form = el("form", "oaw-form");
  form.setAttribute("novalidate", "");
  var label = el("label", "oaw-visually-hidden", "Your message");
  label.setAttribute("for", "oaw-input");
  var input = el("textarea", "oaw-input");
  input.id = "oaw-input";
  input.name = "text";
  input.rows = 1;
  input.placeholder = "Ask for something to buy…";
  input.setAttribute("aria-describedby", "oaw-hint");
  input.setAttribute("autocomplete", "off");
  var sendButton = el("button", "oaw-send", "Send");
  sendButton.type = "submit";
  var hint = el("p", "oaw-visually-hidden", "Press Enter to send, Shift and Enter for a new line.");
  hint.id = "oaw-hint";
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(sendButton);
  form.appendChild(hint);

  var signIn = el("div", "oaw-signin");
  signIn.hidden = true;
  signIn.appendChild(el("p", "oaw-signin-title", "Sign in to chat"));
  signIn.appendChild(
    el("p", "", "The assistant orders with your saved cards and addresses, so it needs to know who you are.")
  );
  var signInLink = el("a", "oaw-button", "Sign in");
  signInLink.href = config.loginUrl;
  signIn.appendChild(signInLink);

  panel.appendChild(header);
  panel.appendChild(banner);
  panel.appendChild(signIn);
  panel.appendChild(log);
  panel.appendChild(typing);
  panel.appendChild(status);
  panel.appendChild(alertBox);
  panel.appendChild(form);
  root.appendChild(panel);
  root.appendChild(launcher);

  // -- state ------------------------------------------------------------------------------------

  var state = {
    conversationId: null,
    lastMessageId: 0,
    seen: {},
    pending: null, // the preview waiting for a decision: {flow_id, preview_hash, …}
    flows: {}, // flow id -> brief {status, merchant_order_id, failure_code}
    conversationStatus: "",
    busy: false,
    started: false,
    pollTimer: null,
    pollDelay: POLL_FAST_MS,
    offline: false,
    retryAfterUntil: 0,
    lastPlacedMessage: null,
    lastCustomerText: "",
    requestFor: {}, // flow id -> the customer's words that led to it (what "Try again" sends again)
    previewFor: {}, // flow id -> its preview
  };
  var conversationKey = "conversation:" + config.userId;

  // -- rendering --------------------------------------------------------------------------------

  var WHO = { customer: "You", assistant: "Assistant", staff: "Specialist", system: "Assistant" };

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function renderCards(cards) {
    var list = el("ul", "oaw-cards");
    list.setAttribute("aria-label", "Products");
    cards.forEach(function (card) {
      var item = el("li", "oaw-card");
      var image = sameSiteImage(card.image_url);
      if (image) {
        var img = el("img", "oaw-card-image");
        img.src = image;
        img.alt = "";
        img.width = 96;
        img.height = 72;
        img.loading = "lazy";
        item.appendChild(img);
      } else {
        item.appendChild(el("span", "oaw-card-image oaw-card-image-empty")).setAttribute("aria-hidden", "true");
      }
      var body = el("div", "oaw-card-body");
      body.appendChild(el("p", "oaw-card-title", card.title));
      if (card.variant) body.appendChild(el("p", "oaw-card-variant", card.variant));
      body.appendChild(el("p", "oaw-card-price", card.price_display || money(card.price, card.currency)));
      item.appendChild(body);
      list.appendChild(item);
    });
    return list;
  }

  function row(list, name, value, className) {
    var term = el("dt", className, name);
    var detail = el("dd", className, value);
    list.appendChild(term);
    list.appendChild(detail);
  }

  function renderPreview(preview, message) {
    var box = el("div", "oaw-preview");
    box.setAttribute("data-preview-hash", preview.preview_hash || "");
    var flowId = message.flow_id || "";
    box.setAttribute("data-flow-id", flowId);
    box.appendChild(el("p", "oaw-preview-title", "Your order"));
    var lines = el("ul", "oaw-preview-lines");
    (preview.lines || []).forEach(function (line) {
      var item = el("li", "oaw-preview-line");
      var what = el("span", "oaw-preview-what", line.quantity + "× " + line.title);
      if (line.variant) what.appendChild(el("span", "oaw-preview-variant", " (" + line.variant + ")"));
      item.appendChild(what);
      // The shop's unit price, as it priced it; discounts, tax and shipping are in the totals below.
      var each = money(line.unit_amount, preview.currency);
      item.appendChild(el("span", "oaw-amount", line.quantity > 1 ? line.quantity + " × " + each : each));
      lines.appendChild(item);
    });
    box.appendChild(lines);
    var totals = el("dl", "oaw-preview-totals");
    row(totals, "Subtotal", money(preview.subtotal, preview.currency));
    if (preview.discount) {
      var codes = (preview.promo_codes || []).join(", ");
      row(totals, "Discount" + (codes ? " (" + codes + ")" : ""), "−" + money(preview.discount, preview.currency));
    }
    row(totals, "Tax", money(preview.tax, preview.currency));
    row(totals, "Shipping", preview.shipping ? money(preview.shipping, preview.currency) : "Free");
    row(totals, "Total", money(preview.total, preview.currency), "oaw-total");
    box.appendChild(totals);
    var facts = el("dl", "oaw-preview-facts");
    if (preview.ship_to) row(facts, "Ship to", preview.ship_to);
    if (preview.payment) row(facts, "Pay with", capitalise(preview.payment.brand) + " •••• " + preview.payment.last4);
    box.appendChild(facts);

    var actions = el("div", "oaw-actions");
    var confirm = el("button", "oaw-button oaw-confirm", "Confirm");
    confirm.type = "button";
    confirm.setAttribute("aria-label", "Confirm and place this order for " + money(preview.total, preview.currency));
    var cancel = el("button", "oaw-button oaw-secondary oaw-cancel", "Cancel");
    cancel.type = "button";
    cancel.setAttribute("aria-label", "Cancel this order");
    confirm.addEventListener("click", function () {
      decide(preview.preview_hash, "confirm", box);
    });
    cancel.addEventListener("click", function () {
      decide(preview.preview_hash, "decline", box);
    });
    actions.appendChild(confirm);
    actions.appendChild(cancel);
    box.appendChild(actions);

    var progress = el("p", "oaw-progress");
    progress.hidden = true;
    box.appendChild(progress);
    return box;
  }

  function stripCardChoice(text) {
    return text.replace(/[,;]?\s*(and\s+)?pay(ing)?\s+with\s+(my\s+)?(the\s+)?card\s+ending(\s+in)?\s+\d{4}/gi, "");
  }

  function renderCardChooser(message, box) {
    var preview = state.previewFor[message.flow_id];
    var failedLast4 = preview && preview.payment ? preview.payment.last4 : "";
    var request = stripCardChoice(state.requestFor[message.flow_id] || "").trim();
    api("GET", "consent/payment-methods/").then(
      function (data) {
        var cards = (data.results || []).filter(function (card) {
          return card.last4 !== failedLast4;
        });
        var chooser = el("div", "oaw-actions oaw-cards-choice");
        chooser.setAttribute("role", "group");
        chooser.setAttribute("aria-label", "Pay with another card");
        if (!cards.length || !request) {
          chooser.appendChild(el("p", "oaw-note", "You have no other saved card. Add one in your settings."));
        }
        cards.forEach(function (card) {
          var button = el("button", "oaw-button oaw-secondary", "Pay with " + card.display);
          button.type = "button";
          button.hidden = !request;
          button.addEventListener("click", function () {
            chooser.remove();
            send(request + ", pay with my card ending " + card.last4);
          });
          chooser.appendChild(button);
        });
        box.parentNode.insertBefore(chooser, box.nextSibling);
        var first = chooser.querySelector("button:not([hidden])");
        if (first) first.focus();
      },
      function (error) {
        showAlert(explain(error));
      }
    );
  }

  function renderFailureOptions(message) {
    var flow = state.flows[message.flow_id] || {};
    var code = message.code || flow.failure_code || "";
    // The server names the options when it has some (a declined card); otherwise they follow the failure.
    var options = message.options && message.options.length ? message.options.slice() : null;
    if (/^(consent|spend)/.test(code)) {
      // Trying again changes nothing until the customer changes their permissions or caps.
      options = ["settings", "talk_to_human"];
    } else if (!options) {
      options = code === "payment_declined" ? ["another_card", "manual_checkout", "talk_to_human"] : ["retry", "talk_to_human"];
    }
    var box = el("div", "oaw-actions oaw-options");
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "What next");
    options.forEach(function (option) {
      if (option === "retry") {
        // Asking again the way the customer first asked builds a fresh cart and preview.
        var request = state.requestFor[message.flow_id];
        if (!request) return;
        var retry = el("button", "oaw-button oaw-secondary", "Try again");
        retry.type = "button";
        retry.addEventListener("click", function () {
          send(request);
        });
        box.appendChild(retry);
      } else if (option === "another_card") {
        var another = el("button", "oaw-button oaw-secondary", "Use another card");
        another.type = "button";
        another.addEventListener("click", function () {
          another.disabled = true;
          renderCardChooser(message, box);
        });
        box.appendChild(another);
      } else if (option === "manual_checkout") {
        var url = message.manual_checkout_url && sameSiteOrHttps(message.manual_checkout_url);
        if (!url) return;
        var link = el("a", "oaw-button oaw-secondary", "Finish at the shop's checkout");
        link.href = url;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        box.appendChild(link);
      } else if (option === "settings") {
        var settings = el("a", "oaw-button oaw-secondary", "Open your settings");
        settings.href = config.settingsUrl;
        box.appendChild(settings);
      } else if (option === "talk_to_human") {
        var human = el("button", "oaw-button oaw-secondary", "Talk to a person");
        human.type = "button";
        human.addEventListener("click", function () {
          send("Talk to a human");
        });
        box.appendChild(human);
      }
    });
    return box.childNodes.length ? box : null;
  }

  function sameSiteOrHttps(url) {
    try {
      var parsed = new URL(url, window.location.href);
      return parsed.protocol === "https:" || parsed.origin === window.location.origin ? parsed.href : null;
    } catch (error) {
      return null;
    }
  }

  function renderRating() {
    var box = el("form", "oaw-rating");
    box.setAttribute("aria-labelledby", "oaw-rating-title");
    var heading = el("p", "oaw-rating-title", "How did the assistant do?");
    heading.id = "oaw-rating-title";
    box.appendChild(heading);
    var scores = el("div", "oaw-scores");
    [1, 2, 3, 4, 5].forEach(function (score) {
      var button = el("button", "oaw-score", String(score));
      button.type = "button";
      button.setAttribute("aria-label", "Rate " + score + " out of 5");
      button.addEventListener("click", function () {
        Array.prototype.forEach.call(scores.querySelectorAll("button"), function (other) {
          other.disabled = true;
        });
        api("POST", "conversations/" + state.conversationId + "/csat/", { score: score, comment: "" }).then(
          function () {
            remember(local, "rated:" + state.conversationId + ":" + box.getAttribute("data-message-id"), "1");
            box.replaceChildren(el("p", "oaw-rating-thanks", "Thanks for rating us " + score + " out of 5."));
            box.setAttribute("tabindex", "-1");
            box.focus();
          },
          function (error) {
            Array.prototype.forEach.call(scores.querySelectorAll("button"), function (other) {
              other.disabled = false;
            });
            showAlert(explain(error));
          }
        );
      });
      scores.appendChild(button);
    });
    box.appendChild(scores);
    return box;
  }

  function renderMessage(message) {
    if (state.seen[message.id]) return;
    state.seen[message.id] = true;
    if (message.id > state.lastMessageId) state.lastMessageId = message.id;

    var role = message.role || "assistant";
    if (role === "customer") state.lastCustomerText = message.text || "";
    if (message.preview && message.flow_id) {
      state.previewFor[message.flow_id] = message.preview;
      if (!state.requestFor[message.flow_id]) state.requestFor[message.flow_id] = state.lastCustomerText;
    }
    var item = el("div", "oaw-message oaw-" + role);
    item.setAttribute("data-message-id", message.id);
    if (message.kind) item.setAttribute("data-kind", message.kind);
    if (message.flow_id) item.setAttribute("data-flow-id", message.flow_id);
    var who = el("p", "oaw-who", WHO[role] || "Assistant");
    if (role === "customer") who.className += " oaw-visually-hidden";
    item.appendChild(who);
    var bubble = el("p", "oaw-bubble");
    bubble.textContent = message.text || "";
    item.appendChild(bubble);
    if (message.cards && message.cards.length) item.appendChild(renderCards(message.cards));
    if (message.preview) item.appendChild(renderPreview(message.preview, message));
    if (message.kind === "flow_placed") {
      var placed = el("p", "oaw-chip oaw-chip-ok");
      placed.appendChild(el("span", "", "Order placed · "));
      placed.appendChild(el("strong", "oaw-order-id", message.merchant_order_id || orderIdFor(message.flow_id)));
      placed.hidden = !placed.lastChild.textContent;
      item.appendChild(placed);
      state.lastPlacedMessage = item;
    }
    if (message.kind === "flow_failed") {
      var options = renderFailureOptions(message);
      if (options) item.appendChild(options);
    }
    log.appendChild(item);
  }

  function orderIdFor(flowId) {
    var flow = flowId && state.flows[flowId];
    return flow ? flow.merchant_order_id || "" : "";
  }

  function refreshPreviews() {
    // A preview's buttons work only while it is the preview waiting for a decision.
    var current = state.pending ? state.pending.preview_hash : "";
    Array.prototype.forEach.call(log.querySelectorAll(".oaw-preview"), function (box) {
      var live = box.getAttribute("data-preview-hash") === current && current !== "";
      var actions = box.querySelector(".oaw-actions");
      if (actions) actions.hidden = !live;
      var flow = state.flows[box.getAttribute("data-flow-id")];
      var progress = box.querySelector(".oaw-progress");
      if (!live && flow && box.getAttribute("data-preview-hash")) {
        progress.hidden = false;
        progress.className = "oaw-progress oaw-progress-" + flow.status;
        var words = FLOW_WORDS[flow.status] || capitalise(flow.status);
        if (flow.status === "placed" && flow.merchant_order_id) words += " · " + flow.merchant_order_id;
        progress.textContent = words;
        progress.setAttribute("data-status", flow.status);
      } else if (!live && !flow && box.getAttribute("data-preview-hash") !== current) {
        progress.hidden = false;
        progress.textContent = "This preview is no longer current.";
      } else {
        progress.hidden = true;
      }
    });
    // Fill in order ids that arrived after their message, and offer a rating after the last order.
    Array.prototype.forEach.call(log.querySelectorAll(".oaw-order-id"), function (node) {
      if (!node.textContent) node.textContent = orderIdFor(node.closest(".oaw-message").getAttribute("data-flow-id"));
      node.parentNode.hidden = !node.textContent;
    });
    var placed = state.lastPlacedMessage;
    if (placed && !placed.querySelector(".oaw-rating")) {
      var key = "rated:" + state.conversationId + ":" + placed.getAttribute("data-message-id");
      if (!recall(local, key)) {
        var rating = renderRating();
        rating.setAttribute("data-message-id", placed.getAttribute("data-message-id"));
        placed.appendChild(rating);
      }
    }
  }

  function setConversationStatus(value) {
    state.conversationStatus = value || "";
    var escalated = value === "escalated";
    banner.hidden = !escalated;
    banner.textContent = escalated
      ? "A specialist is looking at this. They will answer you here; the assistant waits until they are done."
      : "";
    panel.classList.toggle("oaw-escalated", escalated);
  }

  function applyFlows(flows) {
    (flows || []).forEach(function (flow) {
      if (flow && flow.id) state.flows[flow.id] = flow;
    });
  }

  function apply(data, options) {
    options = options || {};
    if (data.status) setConversationStatus(data.status);
    if (data.flow) applyFlows([data.flow]);
    applyFlows(data.flows);
    var added = 0;
    (data.messages || []).forEach(function (message) {
      if (!state.seen[message.id]) added += 1;
      renderMessage(message);
    });
    if ("pending_confirmation" in data || options.pendingKnown) state.pending = data.pending_confirmation || null;
    refreshPreviews();
    if (added) scrollToEnd();
    return added;
  }

  // -- busy, alerts, status ---------------------------------------------------------------------

  function setBusy(busy, words) {
    state.busy = busy;
    typing.hidden = !busy;
    log.setAttribute("aria-busy", busy ? "true" : "false");
    updateSendButton();
    status.textContent = busy ? words || "The assistant is typing…" : "";
    Array.prototype.forEach.call(log.querySelectorAll(".oaw-actions button"), function (button) {
      button.disabled = busy;
    });
    if (busy) scrollToEnd();
  }

  function updateSendButton() {
    var waiting = Date.now() < state.retryAfterUntil;
    sendButton.disabled = state.busy || waiting || !state.conversationId;
    sendButton.setAttribute("aria-disabled", sendButton.disabled ? "true" : "false");
  }

  function showAlert(text) {
    alertBox.textContent = text;
    alertBox.hidden = !text;
  }

  // -- talking to the server --------------------------------------------------------------------

  function start() {
    if (state.started) return Promise.resolve();
    state.started = true;
    var stored = recall(local, conversationKey);
    var opening = stored
      ? api("GET", "conversations/" + encodeURIComponent(stored) + "/").then(
          function (data) {
            state.conversationId = data.id;
            apply(data, { pendingKnown: true });
          },
          function (error) {
            if (error.status === 404) {
              remember(local, conversationKey, null);
              return create();
            }
            throw error;
          }
        )
      : create();
    setBusy(true, "Connecting…");
    return opening.then(
      function () {
        setBusy(false);
        showAlert("");
        schedulePoll(POLL_FAST_MS);
      },
      function (error) {
        state.started = false;
        setBusy(false);
        if (error.status === 401 || error.status === 403) {
          showSignIn();
          return;
        }
        showAlert(explain(error) + " Close and reopen the chat to try again.");
      }
    );
  }

  function create() {
    return api("POST", "conversations/").then(function (data) {
      state.conversationId = data.id;
      remember(local, conversationKey, data.id);
      apply(data);
    });
  }

  function post(text, key, attempt) {
    return api("POST", "conversations/" + state.conversationId + "/messages/", { text: text }, {
      "Idempotency-Key": key,
    }).catch(function (error) {
      // Outcome unknown when the network dropped: ask again with the same key, never a second turn.
      if (error.networkDown && attempt < 3) {
        return new Promise(function (resolve) {
          setTimeout(resolve, 1000 * attempt);
        }).then(function () {
          return post(text, key, attempt + 1);
        });
      }
      throw error;
    });
  }

  function send(text) {
    text = (text || "").trim();
    if (!text || state.busy || !state.conversationId) return;
    if (Date.now() < state.retryAfterUntil) return;
    showAlert("");
    setBusy(true);
    var key = newKey();
    post(text, key, 1).then(
      function (data) {
        setOffline(false);
        if (input.value.trim() === text) input.value = "";
        autosize();
        apply(data, { pendingKnown: true });
        setBusy(false);
        input.focus();
        schedulePoll(POLL_FAST_MS);
      },
      function (error) {
        setBusy(false);
        if (error.networkDown) setOffline(true);
        if (error.status === 429) holdFor(error.body.retry_after_seconds);
        showAlert(explain(error));
        input.focus();
        schedulePoll(state.pollDelay);
      }
    );
  }

  function holdFor(seconds) {
    var wait = Math.max(1, Number(seconds) || 5);
    state.retryAfterUntil = Date.now() + wait * 1000;
    updateSendButton();
    setTimeout(updateSendButton, wait * 1000 + 50);
  }

  function decide(previewHash, decision, box) {
    if (state.busy) return;
    showAlert("");
    setBusy(true, decision === "confirm" ? "Placing your order…" : "Cancelling…");
    var progress = box.querySelector(".oaw-progress");
    if (decision === "confirm") {
      box.querySelector(".oaw-actions").hidden = true;
      progress.hidden = false;
      progress.textContent = FLOW_WORDS.placing;
    }
    api("POST", "conversations/" + state.conversationId + "/confirm/", {
      preview_hash: previewHash,
      decision: decision,
    }).then(
      function (data) {
        var flow = data.flow || data;
        if (flow && flow.id) {
          flow.status = decision === "decline" && flow.status === "previewed" ? "declined" : flow.status;
          state.flows[flow.id] = flow;
        }
        state.pending = null;
        refreshPreviews();
        return poll(true);
      },
      function (error) {
        showAlert(explain(error));
        return poll(true);
      }
    ).then(function () {
      setBusy(false);
      input.focus();
      schedulePoll(POLL_FAST_MS);
    });
  }

  function setOffline(offline) {
    if (state.offline === offline) return;
    state.offline = offline;
    panel.classList.toggle("oaw-offline", offline);
    if (!offline && /offline|can't be reached/.test(alertBox.textContent)) showAlert("");
    status.textContent = offline ? "" : "Connected again.";
  }

  function poll(now) {
    if (!state.conversationId) return Promise.resolve();
    return api("GET", "conversations/" + state.conversationId + "/events/?after=" + state.lastMessageId).then(
      function (data) {
        var wasOffline = state.offline;
        setOffline(false);
        var changed = apply(data, { pendingKnown: true }) > 0 || wasOffline;
        var active = Object.keys(state.flows).some(function (id) {
          return FLOW_IN_PROGRESS.indexOf(state.flows[id].status) !== -1;
        });
        // New messages or an order in progress: look again soon. Quiet: back off, up to 15 s (4 s while a
        // specialist has the conversation).
        var ceiling = state.conversationStatus === "escalated" ? POLL_ESCALATED_MAX_MS : POLL_SLOW_MS;
        state.pollDelay = changed || active ? POLL_FAST_MS : Math.min(state.pollDelay * 2, ceiling);
        if (!now) schedulePoll(state.pollDelay);
      },
      function (error) {
        if (error.networkDown) {
          setOffline(true);
          showAlert(explain(error));
          state.pollDelay = Math.min(Math.max(state.pollDelay, POLL_FAST_MS) * 2, POLL_OFFLINE_MAX_MS);
        } else if (error.status === 404) {
          remember(local, conversationKey, null);
          showAlert("This conversation is no longer available. Close and reopen the chat to start a new one.");
          return;
        } else {
          state.pollDelay = Math.min(state.pollDelay * 2, POLL_SLOW_MS);
        }
        if (!now) schedulePoll(state.pollDelay);
      }
    );
  }

  function schedulePoll(delay) {
    clearTimeout(state.pollTimer);
    state.pollDelay = delay;
    if (panel.hidden || !state.conversationId) return;
    state.pollTimer = setTimeout(function () {
      poll(false);
    }, delay);
  }

  // -- open, close, keyboard --------------------------------------------------------------------

  function showSignIn() {
    signIn.hidden = false;
    log.hidden = true;
    form.hidden = true;
    typing.hidden = true;
  }

  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    root.classList.add("oaw-open");
    remember(session, "open", "1");
    if (!config.userId) {
      showSignIn();
      signInLink.focus();
      return;
    }
    input.focus();
    start().then(function () {
      if (!panel.hidden && document.activeElement === document.body) input.focus();
      schedulePoll(POLL_FAST_MS);
    });
    scrollToEnd();
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    root.classList.remove("oaw-open");
    remember(session, "open", null);
    clearTimeout(state.pollTimer);
    launcher.focus();
  }

  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 140) + "px";
  }

  launcher.addEventListener("click", function () {
    if (panel.hidden) open();
    else close();
  });
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : send(input.value);
    }
  });
  input.addEventListener("input", autosize);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!input.value.trim()) {
      showAlert("Type a message first.");
      input.focus();
      return;
    }
    send(input.value);
  });
  window.addEventListener("online", function () {
    schedulePoll(POLL_FAST_MS);
  });
  window.addEventListener("offline", function () {
    setOffline(true);
    showAlert(explain(new ApiError(0, null, true)));
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && !panel.hidden) schedulePoll(POLL_FAST_MS);
  });

  function mount() {
    document.body.appendChild(root);
    updateSendButton();
    // The chat stays open across page loads of the same tab (the conversation itself is kept per user).
    if (recall(session, "open")) open();
  }

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
