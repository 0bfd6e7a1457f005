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
    // The longest message the box takes (the API's ORDERING_MESSAGE_MAX_CHARS, 2000 unless changed).
    maxChars: parseInt(script.getAttribute("data-max-chars"), 10) || 2000,
    title: script.getAttribute("data-title") || "Ordering assistant",
  };
  var STORAGE_PREFIX = "ordering-assistant:";
  var POLL_FAST_MS = 1000;
  var POLL_SLOW_MS = 15000;
  var POLL_OFFLINE_MAX_MS = 30000;
  var POLL_ESCALATED_MAX_MS = 4000; // a specialist may answer at any moment: keep looking often
  // A posted message's turn (202): each look at its url waits at the server up to TURN_WAIT_S for the turn to
  // end and answers as soon as it has (long-poll); looks start at least TURN_POLL_MS apart, so a server that
  // cannot wait (no Redis) is asked twice a second, as before; one that is busy says when (Retry-After).
  var TURN_WAIT_S = 20;
  var TURN_POLL_MS = 500;
  var TURN_WAIT_MAX_MS = 90000; // the server gives up on a turn well before this (its deadline)
  // A dependency of the shop down for a moment (the API's 503 with Retry-After, or a proxy's 502/504): the
  // widget says so in the API's words, waits as asked and sends the same request again, for this long.
  var UNAVAILABLE_STATUSES = [502, 503, 504];
  var UNAVAILABLE_WAIT_DEFAULT_S = 5;
  var UNAVAILABLE_RETRY_MAX_MS = 120000;
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

  function control(tag, className, text) {
    // A control in the conversation: disabled while a turn runs (see syncControls).
    var node = el(tag, className + " oaw-control", text);
    if (tag === "button") node.type = "button";
    return node;
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

  function api(method, path, body, headers, meta) {
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
        if (meta) meta.retryAfter = Number(response.headers.get("Retry-After")) || 0;
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

  function unavailable(error) {
    return !!error && !error.networkDown && UNAVAILABLE_STATUSES.indexOf(error.status) !== -1;
  }

  function unavailableWaitSeconds(error) {
    var seconds = Number(error.body && error.body.retry_after_seconds);
    return seconds > 0 ? Math.min(Math.ceil(seconds), 60) : UNAVAILABLE_WAIT_DEFAULT_S;
  }

  function sleep(ms) {
    return new Promise(function (resolve) {
      setTimeout(resolve, ms);
    });
  }

  function explain(error) {
    if (error.networkDown) {
      return "You seem to be offline, or the shop can't be reached. I'll keep trying; your message was not lost.";
    }
    if (unavailable(error)) {
      return (
        error.message ||
        "We're having a brief technical problem on our side. Please try again in " +
          unavailableWaitSeconds(error) +
          " seconds."
      );
    }
    if (error.status === 429) {
      return error.message || "You're sending messages too quickly. Please wait a moment and try again.";
    }
    if (error.status === 401 || error.status === 403) {
      if (error.body && error.body.error === "not_authenticated") return "Please sign in again to keep chatting.";
      return error.message || "That was refused. Please reload the page and try again.";
    }
    if (error.status >= 500) return error.message || "Something went wrong on our side. Please try again in a moment.";
    // A refused message in the API's own words, without the field's name ("Text: A message can be at most …").
    var said = error.status === 400 && error.body && error.body.fields && error.body.fields.text;
    if (said) return String(Array.isArray(said) ? said[0] : said);
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

  // The rollout (docs/widget.md): the assistant is not available to this customer yet (no chat box at all),
  // or paused by the shop's kill switch (the chat stays, to follow orders already on their way). Either way
  // the customer reads why and gets the shop's own checkout.
  var notice = el("div", "oaw-notice");
  notice.hidden = true;
  notice.setAttribute("role", "status");
  var noticeText = el("p", "oaw-notice-text");
  var noticeLink = el("a", "oaw-button oaw-notice-link", "Go to the checkout");
  notice.appendChild(noticeText);
  notice.appendChild(noticeLink);

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
  input.setAttribute("aria-describedby", "oaw-hint oaw-counter");
  input.setAttribute("autocomplete", "off");
  // How many characters are left once a message comes near the limit, and how many too many past it (no
  // maxlength: a pasted text is never cut silently).
  var counter = el("p", "oaw-counter");
  counter.id = "oaw-counter";
  counter.hidden = true;
  var sendButton = el("button", "oaw-send", "Send");
  sendButton.type = "submit";
  var hint = el("p", "oaw-visually-hidden", "Press Enter to send, Shift and Enter for a new line.");
  hint.id = "oaw-hint";
  var editHint = el("p", "oaw-visually-hidden", "Choose with the arrow keys, then press Enter to change it.");
  editHint.id = "oaw-edit-hint";
  form.appendChild(editHint);
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
  panel.appendChild(notice);
  panel.appendChild(signIn);
  panel.appendChild(log);
  panel.appendChild(typing);
  panel.appendChild(status);
  panel.appendChild(alertBox);
  panel.appendChild(form);
  panel.appendChild(counter);
  root.appendChild(panel);
  root.appendChild(launcher);

  // The launcher sits at the end of the page, after every link of it: a keyboard user reaches the assistant
  // early through this skip button at the top (shown when focused), right after the page's own skip link.
  var skip = el("button", "oaw-skip", "Open the assistant");
  skip.type = "button";
  skip.setAttribute("aria-controls", "oaw-panel");

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
    unavailableText: "", // the API's words about an outage, while the widget waits to try again
    retryAfterUntil: 0,
    lastPlacedMessage: null,
    lastCustomerText: "",
    lastCustomerMessageId: 0, // chips of messages before it are answered: they stop working
    requestText: "", // the customer's words that started the current request
    requestOpen: false,
    requestFor: {}, // flow id -> the customer's words that led to it (what "Try again" sends again)
    previewFor: {}, // flow id -> its preview
  };
  var conversationKey = "conversation:" + config.userId;

  // -- rendering --------------------------------------------------------------------------------

  var REQUEST_OPEN_KINDS = ["", "question", "notice"];
  var WHO = { customer: "You", assistant: "Assistant", staff: "Specialist", system: "Assistant" };

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function renderCards(cards, message) {
    var list = el("ul", "oaw-cards" + (cards.length > 1 ? " oaw-cards-grid" : ""));
    list.setAttribute("aria-label", "Products");
    // Cards that answer "which one?" are a choice; search and browse results are things to add.
    var verb = message && message.kind === "question" ? "Choose" : "Add";
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
      if (card.product_id && card.title) {
        var add = control("button", "oaw-button oaw-secondary oaw-card-add", verb);
        add.setAttribute("aria-label", verb === "Add" ? "Add " + card.title + " to your order" : "Choose " + card.title);
        add.addEventListener("click", function () {
          send(takeText(card), {
            kind: "add_items",
            items: [{ product_ids: [String(card.product_id)] }],
          });
        });
        item.appendChild(add);
      }
      list.appendChild(item);
    });
    return list;
  }

  function takeText(card) {
    return "I'll take the " + card.title;
  }

  function renderQuickReplies(message) {
    // A chip that says what a card's own button already does ("I'll take the Blue Runner") is left out.
    var onCards = (message.cards || [])
      .filter(function (card) {
        return card && card.product_id && card.title;
      })
      .map(takeText);
    var replies = (message.quick_replies || []).filter(function (reply) {
      return reply && typeof reply.text === "string" && reply.text.trim() && onCards.indexOf(reply.text) === -1;
    });
    if (!replies.length) return null;
    var group = el("div", "oaw-replies");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Quick replies");
    group.setAttribute("data-message-id", message.id);
    replies.forEach(function (reply) {
      var chip = control("button", "oaw-reply", reply.label || reply.text);
      chip.addEventListener("click", function () {
        var command = reply.command && typeof reply.command === "object" ? reply.command : null;
        if (send(reply.text, command)) chip.setAttribute("data-chosen", "");
      });
      group.appendChild(chip);
    });
    return group;
  }

  function lineName(line) {
    var variant = [line.colour, line.size].filter(Boolean).join(", ");
    return line.title + (variant ? " (" + variant + ")" : "");
  }

  function renderChoice(line, slot, options, current, words) {
    // A native select: the size or colour is changed when the customer commits a choice (a click in the
    // list, or Enter); stepping through the options with the arrow keys does not post each one.
    var select = control("select", "oaw-edit-select");
    select.setAttribute("aria-label", words.label + " of " + lineName(line));
    select.setAttribute("aria-describedby", "oaw-edit-hint");
    options.forEach(function (option) {
      var choice = el("option", "", words.option(option));
      choice.value = option;
      if (option === current) choice.selected = true;
      select.appendChild(choice);
    });
    var stepping = false;
    function commit() {
      stepping = false;
      var value = select.value;
      if (!value || value === current) return;
      var command = {
        kind: "set_slot",
        slot: slot,
        value: value,
        target: { variant_id: String(line.variant_id) },
        correction: true,
      };
      if (!send(words.text(line.title, value), command)) select.value = current || "";
    }
    select.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        commit();
      } else if (/^(Arrow|Page|Home|End)/.test(event.key) || event.key.length === 1) {
        stepping = true;
      }
    });
    select.addEventListener("change", function () {
      if (!stepping) commit();
    });
    select.addEventListener("blur", function () {
      if (stepping) {
        stepping = false;
        select.value = current || "";
      }
    });
    return select;
  }

  var SIZE_WORDS = {
    label: "Size",
    option: function (size) {
      return "Size " + size;
    },
    text: function (title, size) {
      return title + " in size " + size;
    },
  };
  var COLOUR_WORDS = {
    label: "Colour",
    option: capitalise,
    text: function (title, colour) {
      return title + " in " + colour;
    },
  };

  function renderCartEdit(lines) {
    var box = el("div", "oaw-cart-edit");
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "Change your order");
    box.appendChild(el("p", "oaw-edit-title", "Change something?"));
    var list = el("ul", "oaw-edit-lines");
    lines.forEach(function (line) {
      if (!line || !line.variant_id || !line.title) return;
      var name = lineName(line);
      var quantity = Number(line.quantity) || 1;
      var most = typeof line.max_quantity === "number" ? line.max_quantity : Infinity;
      var item = el("li", "oaw-edit-line");
      item.setAttribute("data-variant-id", line.variant_id);
      item.appendChild(el("p", "oaw-edit-name", name));
      var controls = el("div", "oaw-edit-controls");

      var stepper = el("div", "oaw-stepper");
      stepper.setAttribute("role", "group");
      stepper.setAttribute("aria-label", "Quantity of " + name);
      function setQuantity(value) {
        send(value + " × " + line.title, {
          kind: "set_slot",
          slot: "quantity",
          value: String(value),
          target: { variant_id: String(line.variant_id) },
          correction: true,
        });
      }
      var fewer = control("button", "oaw-step", "−");
      fewer.setAttribute("aria-label", "One fewer " + name + ", now " + quantity);
      // Below one is Remove's job: the shop never gets a quantity of 0.
      if (quantity <= 1) fewer.setAttribute("data-blocked", "");
      fewer.addEventListener("click", function () {
        if (quantity > 1) setQuantity(quantity - 1);
      });
      var count = el("span", "oaw-step-count", quantity);
      count.setAttribute("aria-hidden", "true");
      var more = control("button", "oaw-step", "+");
      more.setAttribute("aria-label", "One more " + name + ", now " + quantity);
      if (quantity + 1 > most) {
        more.setAttribute("data-blocked", "");
        more.title = "The shop has no more of this one";
      }
      more.addEventListener("click", function () {
        if (quantity + 1 <= most) setQuantity(quantity + 1);
      });
      stepper.appendChild(fewer);
      stepper.appendChild(count);
      stepper.appendChild(more);
      controls.appendChild(stepper);

      var sizes = Array.isArray(line.sizes) ? line.sizes.map(String) : [];
      if (sizes.length > 1) controls.appendChild(renderChoice(line, "size", sizes, line.size || "", SIZE_WORDS));
      var colours = Array.isArray(line.colours) ? line.colours.map(String) : [];
      if (colours.length > 1) {
        controls.appendChild(renderChoice(line, "colour", colours, line.colour || "", COLOUR_WORDS));
      }

      var remove = control("button", "oaw-link-button oaw-remove", "Remove");
      remove.setAttribute("aria-label", "Remove " + name);
      remove.addEventListener("click", function () {
        send("Remove the " + line.title, { kind: "remove_item", target: { variant_id: String(line.variant_id) } });
      });
      controls.appendChild(remove);
      item.appendChild(controls);
      list.appendChild(item);
    });
    if (!list.childNodes.length) return null;
    box.appendChild(list);
    return box;
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
    // Every other amount the shop's total carries (a fee, gift wrap, a tip, store credit), as the shop names it.
    (preview.charges || []).forEach(function (charge) {
      row(totals, charge.name, (charge.credit ? "−" : "") + money(charge.amount, preview.currency));
    });
    row(totals, "Total", money(preview.total, preview.currency), "oaw-total");
    box.appendChild(totals);
    var facts = el("dl", "oaw-preview-facts");
    if (preview.ship_to) row(facts, "Ship to", preview.ship_to);
    if (preview.payment) row(facts, "Pay with", capitalise(preview.payment.brand) + " •••• " + preview.payment.last4);
    box.appendChild(facts);
    if (message.kind === "preview_blocked") {
      // Consent or a spending cap stands in the way: nothing to confirm; the reason is in the message above.
      box.setAttribute("data-blocked-preview", "");
      var blocked = el("div", "oaw-blocked-note");
      blocked.appendChild(el("p", "", "This order can't be placed with your current settings."));
      var settingsLink = el("a", "oaw-button oaw-secondary", "Open your settings");
      settingsLink.href = config.settingsUrl;
      blocked.appendChild(settingsLink);
      box.appendChild(blocked);
    }
    // Editing the cart from the card posts the same commands as words would; shown only on the live preview.
    var edit = message.cart_edit && message.cart_edit.length ? renderCartEdit(message.cart_edit) : null;
    if (edit) box.appendChild(edit);

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
        showError(error);
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

  function renderLink(link) {
    // A page of this site the server asks the customer to open (the bank's payment verification):
    // only a path of this origin, its label as text, in a new tab so the chat stays open.
    var url = link && typeof link.url === "string" && sameOrigin(link.url);
    if (!url || typeof link.label !== "string" || !link.label) return null;
    var box = el("div", "oaw-actions oaw-link");
    var anchor = el("a", "oaw-button", link.label);
    anchor.href = url;
    anchor.target = "_blank";
    anchor.rel = "noopener";
    box.appendChild(anchor);
    return box;
  }

  function sameOrigin(url) {
    try {
      var parsed = new URL(url, window.location.href);
      return parsed.origin === window.location.origin && /^https?:$/.test(parsed.protocol) ? parsed.href : null;
    } catch (error) {
      return null;
    }
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
            showError(error);
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
    if (role === "customer") {
      state.lastCustomerText = message.text || "";
      state.lastCustomerMessageId = Math.max(state.lastCustomerMessageId, message.id);
      // The words that started this request: "buy the blue runner", not the "43" chip that answered it.
      if (!state.requestOpen) state.requestText = state.lastCustomerText;
      state.requestOpen = true;
    }
    if (message.preview && message.flow_id) {
      state.previewFor[message.flow_id] = message.preview;
      if (!state.requestFor[message.flow_id]) {
        state.requestFor[message.flow_id] = state.requestText || state.lastCustomerText;
      }
    }
    // A question (or a remark beside it) keeps the request open; any other answer closes it.
    if (role !== "customer" && REQUEST_OPEN_KINDS.indexOf(message.kind || "") === -1) state.requestOpen = false;
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
    markDelivery(item, message);
    if (message.cards && message.cards.length) item.appendChild(renderCards(message.cards, message));
    if (message.preview) item.appendChild(renderPreview(message.preview, message));
    if (role === "assistant" || role === "system") {
      var replies = renderQuickReplies(message);
      if (replies) item.appendChild(replies);
    }
    if (message.link) {
      var link = renderLink(message.link);
      if (link) item.appendChild(link);
    }
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

  function markDelivery(item, message) {
    // A message written while a specialist has the chat gets no answer from the assistant, on purpose: say under it
    // that it went to the specialist, or the customer is left to wonder whether it arrived. Known once its turn is
    // done (the server says `delivered_to`), so a message already on screen gets it then.
    if (!item || message.role !== "customer" || message.delivered_to !== "specialist") return false;
    if (item.querySelector(".oaw-delivery")) return false;
    item.appendChild(el("p", "oaw-delivery", "Sent to the specialist"));
    return true;
  }

  function orderIdFor(flowId) {
    var flow = flowId && state.flows[flowId];
    return flow ? flow.merchant_order_id || "" : "";
  }

  function blockedNow(box, flow, newest) {
    // The latest preview of its cart, shown as one the customer's settings would refuse (whose flow the server
    // ended at once, so the shop holds nothing for it: its own note says why, not "Cancelled").
    var ended = flow && flow.status === "canceled" && flow.failure_code === "preview_blocked";
    return box.hasAttribute("data-blocked-preview") && box === newest && (!flow || flow.status === "previewed" || ended);
  }

  function refreshPreviews() {
    // A preview's buttons and cart editing work only while it is the preview waiting for a decision.
    var current = state.pending ? state.pending.preview_hash : "";
    var boxes = log.querySelectorAll(".oaw-preview");
    var newestOfFlow = {};
    var newestOfHash = {};
    Array.prototype.forEach.call(boxes, function (box) {
      newestOfFlow[box.getAttribute("data-flow-id")] = box;
      newestOfHash[box.getAttribute("data-preview-hash")] = box;
    });
    Array.prototype.forEach.call(boxes, function (box) {
      var hash = box.getAttribute("data-preview-hash");
      // The same preview shown again ("what's in my cart?"): only its newest copy is the one to act on.
      var repeated = hash && newestOfHash[hash] !== box;
      var live = hash === current && current !== "" && !repeated;
      var actions = box.querySelector(".oaw-actions");
      if (actions) actions.hidden = !live;
      var edit = box.querySelector(".oaw-cart-edit");
      if (edit) edit.hidden = !live;
      var flowId = box.getAttribute("data-flow-id");
      var flow = state.flows[flowId];
      var progress = box.querySelector(".oaw-progress");
      var words = null;
      var status = "";
      if (live || !hash) {
        words = null;
      } else if (repeated) {
        words = "Shown again below.";
      } else if (blockedNow(box, flow, newestOfFlow[flowId])) {
        words = null; // its own note says why it cannot be placed
      } else if (!flow) {
        words = "This preview is no longer current.";
      } else if (flow.confirmed_preview_hash) {
        // Only the preview the customer confirmed carries the order's progress; the ones it replaced say so.
        if (hash === flow.confirmed_preview_hash && flow.status !== "previewed") status = flow.status;
        else words = "Replaced by a newer preview";
      } else if (box === newestOfFlow[flowId] && flow.status !== "previewed") {
        status = flow.status; // never confirmed: declined, cancelled, expired
      } else {
        words = "This preview is no longer current.";
      }
      // A placed order stays "placed" when the shop cancels it afterwards; its status at the shop says so.
      if (status === "placed" && ["canceled", "cancelled"].indexOf(flow.merchant_order_status) !== -1) status = "canceled";
      if (status) {
        words = FLOW_WORDS[status] || capitalise(status);
        if (status === "placed" && flow.merchant_order_id) words += " · " + flow.merchant_order_id;
        if (status === "canceled" && flow.merchant_order_id) words = "Order cancelled · " + flow.merchant_order_id;
      }
      progress.hidden = !words;
      box.classList.toggle("oaw-preview-stale", !live && !status && !!words);
      progress.className = "oaw-progress" + (status ? " oaw-progress-" + status : words ? " oaw-progress-stale" : "");
      progress.textContent = words || "";
      if (status) progress.setAttribute("data-status", status);
      else progress.removeAttribute("data-status");
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
    applyOrdering(data.ordering);
    if (data.flow) applyFlows([data.flow]);
    applyFlows(data.flows);
    var added = 0;
    (data.messages || []).forEach(function (message) {
      if (!state.seen[message.id]) added += 1;
      else if (markDelivery(log.querySelector('.oaw-message[data-message-id="' + Number(message.id) + '"]'), message)) {
        added += 1; // not a new message, but a new line under one: keep it in view
      }
      renderMessage(message);
    });
    if ("pending_confirmation" in data || options.pendingKnown) state.pending = data.pending_confirmation || null;
    refreshPreviews();
    syncControls();
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
    syncControls();
    if (busy) scrollToEnd();
  }

  function syncControls() {
    // Chips of a message the customer already answered stay on screen but no longer work; a quantity
    // step past what the shop sells (or below one) never works; nothing works while a turn runs.
    Array.prototype.forEach.call(log.querySelectorAll(".oaw-replies"), function (group) {
      var answered = Number(group.getAttribute("data-message-id")) < state.lastCustomerMessageId;
      group.classList.toggle("oaw-replies-answered", answered);
      Array.prototype.forEach.call(group.querySelectorAll("button"), function (chip) {
        if (answered) chip.setAttribute("data-blocked", "");
      });
    });
    Array.prototype.forEach.call(log.querySelectorAll(".oaw-control"), function (node) {
      node.disabled = state.busy || node.hasAttribute("data-blocked");
    });
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

  function showError(error, more) {
    // The error in words; signed out, with a link to sign in that comes back to this page.
    showAlert(explain(error) + (more || ""));
    if ((error.status === 401 || error.status === 403) && error.body && error.body.error === "not_authenticated") {
      alertBox.appendChild(document.createTextNode(" "));
      var again = el("a", "oaw-alert-link", "Sign in");
      again.href = config.loginUrl;
      alertBox.appendChild(again);
    }
  }

  function updateCounter() {
    var left = config.maxChars - input.value.length;
    counter.hidden = left > config.maxChars / 10;
    counter.classList.toggle("oaw-counter-over", left < 0);
    if (left >= 0) counter.textContent = left + (left === 1 ? " character" : " characters") + " left";
    else {
      counter.textContent =
        -left + (left === -1 ? " character" : " characters") + " too many: a message can be at most " +
        config.maxChars + " characters long.";
    }
  }

  function setUnavailable(error) {
    // Said once per outage in the API's own words; the status line says the widget is on it.
    var text = error ? explain(error) : "";
    if (text) {
      state.unavailableText = text;
      showAlert(text);
      status.textContent = "Trying again in " + unavailableWaitSeconds(error) + " seconds…";
      return;
    }
    if (!state.unavailableText) return;
    if (alertBox.textContent === state.unavailableText) showAlert("");
    state.unavailableText = "";
    status.textContent = "Connected again.";
  }

  function whileUnavailable(call, startedAt) {
    // `call` makes one request; while the shop answers that it is briefly unavailable, wait as long as it
    // asks and make the same request again (a message keeps its Idempotency-Key, a confirmation its
    // preview hash, so a repeat never does anything twice), for up to two minutes.
    startedAt = startedAt || Date.now();
    return call().then(
      function (data) {
        setUnavailable(null);
        return data;
      },
      function (error) {
        if (!unavailable(error) || Date.now() - startedAt > UNAVAILABLE_RETRY_MAX_MS) throw error;
        setUnavailable(error);
        return sleep(unavailableWaitSeconds(error) * 1000).then(function () {
          return whileUnavailable(call, startedAt);
        });
      }
    );
  }

  // -- talking to the server --------------------------------------------------------------------

  function start() {
    if (state.started) return Promise.resolve();
    state.started = true;
    var stored = recall(local, conversationKey);
    var opening = stored
      ? whileUnavailable(function () {
          return api("GET", "conversations/" + encodeURIComponent(stored) + "/");
        }).then(
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
        if (rolloutRefusal(error)) return;
        if (error.status === 401 || error.status === 403) {
          showSignIn();
          return;
        }
        showError(error, " Close and reopen the chat to try again.");
      }
    );
  }

  function create() {
    return whileUnavailable(function () {
      return api("POST", "conversations/");
    }).then(function (data) {
      state.conversationId = data.id;
      remember(local, conversationKey, data.id);
      apply(data);
    });
  }

  function post(body, key, attempt) {
    return api("POST", "conversations/" + state.conversationId + "/messages/", body, {
      "Idempotency-Key": key,
    }).catch(function (error) {
      // Outcome unknown when the network dropped: ask again with the same key, never a second turn.
      if (error.networkDown && attempt < 3) {
        return new Promise(function (resolve) {
          setTimeout(resolve, 1000 * attempt);
        }).then(function () {
          return post(body, key, attempt + 1);
        });
      }
      throw error;
    });
  }

  function turnFinished(data) {
    return !data.turn || data.turn.status === "done" || data.turn.status === "failed";
  }

  function applyTurn(data) {
    // A turn still queued or running has no answer yet: its customer message shows, and the preview that
    // may be waiting stays as it is until the turn says otherwise.
    if (turnFinished(data)) return apply(data, { pendingKnown: true });
    return apply({ messages: data.messages || [] });
  }

  function waitForTurn(data, startedAt, lookedAt, askAfterMs) {
    // 202 Accepted: the assistant works in the background. Look at the turn's url until it is done or
    // failed; a dropped connection is not the end of the turn, so keep looking (the same turn, never a new one).
    if (turnFinished(data)) return Promise.resolve(data);
    if (Date.now() - startedAt > TURN_WAIT_MAX_MS) {
      return Promise.reject(new ApiError(504, { message: "The assistant is taking too long. Please try again." }));
    }
    // The first look goes at once (it waits at the server); the next ones no sooner than TURN_POLL_MS after the last.
    // A busy server that could not hold the look says when to ask again (Retry-After on its 200).
    var gap = Math.max(TURN_POLL_MS, askAfterMs || 0);
    return sleep(lookedAt ? Math.max(0, gap - (Date.now() - lookedAt)) : 0).then(function () {
      var lookingAt = Date.now();
      var url = "conversations/" + state.conversationId + "/turns/" + data.turn.id + "/?wait=" + TURN_WAIT_S;
      var meta = {};
      return api("GET", url, null, null, meta).then(
        function (next) {
          setOffline(false);
          setUnavailable(null);
          applyTurn(next);
          return waitForTurn(next, startedAt, lookingAt, Math.min(meta.retryAfter, 10) * 1000);
        },
        function (error) {
          if (unavailable(error)) {
            // The turn goes on at the server; ask again once the shop says it can answer.
            setUnavailable(error);
            return sleep(unavailableWaitSeconds(error) * 1000).then(function () {
              return waitForTurn(data, startedAt, Date.now());
            });
          }
          if (!error.networkDown) throw error;
          setOffline(true);
          return waitForTurn(data, startedAt, lookingAt);
        }
      );
    });
  }

  function send(text, command, typed) {
    // Typed words, a chip, a card's Add or a cart edit: one post, one turn. `command` (wire form, see
    // ordering/agent/commands.py) goes with the text when the widget knows exactly what is meant.
    // Returns whether the message went out.
    text = (text || "").trim();
    if (!text || state.busy || !state.conversationId) return false;
    if (Date.now() < state.retryAfterUntil) return false;
    showAlert("");
    setBusy(true);
    var key = newKey();
    var body = { text: text };
    if (command) body.command = command;
    var startedAt = Date.now();
    whileUnavailable(function () {
      return post(body, key, 1);
    })
      .then(function (data) {
        setOffline(false);
        if (typed && input.value.trim() === text) input.value = "";
        autosize();
        applyTurn(data); // the customer's own message at once; the typing indicator stays on
        return waitForTurn(data, startedAt);
      })
      .then(
        function (data) {
          setBusy(false);
          if (data.turn && data.turn.status === "failed") {
            // The apology is in the chat; the words are back in the box, one press of Send tries again.
            if (!input.value.trim()) input.value = text;
            autosize();
            showAlert("That message was not answered. Press Send to try it again.");
          }
          input.focus();
          schedulePoll(POLL_FAST_MS);
        },
        function (error) {
          setBusy(false);
          if (error.networkDown) setOffline(true);
          if (error.status === 429) holdFor(error.body.retry_after_seconds);
          if (!rolloutRefusal(error)) showError(error);
          input.focus();
          schedulePoll(state.pollDelay);
        }
      );
    return true;
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
    whileUnavailable(function () {
      return api("POST", "conversations/" + state.conversationId + "/confirm/", {
        preview_hash: previewHash,
        decision: decision,
      });
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
        if (!rolloutRefusal(error)) showError(error);
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
        var wasOffline = state.offline || !!state.unavailableText;
        setOffline(false);
        setUnavailable(null);
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
          showError(error);
          state.pollDelay = Math.min(Math.max(state.pollDelay, POLL_FAST_MS) * 2, POLL_OFFLINE_MAX_MS);
        } else if (unavailable(error)) {
          setUnavailable(error);
          state.pollDelay = unavailableWaitSeconds(error) * 1000;
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
      // While a turn runs, its own url is being polled; an events poll now would catch the cart's flow
      // half way (a draft that the turn is about to preview) and keep that stale status afterwards.
      if (state.busy) {
        schedulePoll(state.pollDelay);
        return;
      }
      poll(false);
    }, delay);
  }

  // -- open, close, keyboard --------------------------------------------------------------------

  function sameSitePath(url) {
    // Only a page of this site: a refusal must never send the customer to a third party.
    if (!url || typeof url !== "string") return null;
    try {
      var parsed = new URL(url, window.location.href);
      return parsed.origin === window.location.origin ? parsed.href : null;
    } catch (error) {
      return null;
    }
  }

  function showNotice(body, kind) {
    noticeText.textContent =
      body.message || "The ordering assistant can't take orders right now. You can order at the shop's checkout.";
    var href = sameSitePath(body.checkout_url);
    noticeLink.hidden = !href;
    if (href) noticeLink.href = href;
    notice.setAttribute("data-kind", kind);
    notice.hidden = false;
    if (kind === "assistant_not_available") {
      log.hidden = true;
      form.hidden = true;
      typing.hidden = true;
    }
  }

  function rolloutRefusal(error) {
    // True when the error is the rollout's (not available, paused): shown as the notice, not as an alert.
    var code = error && error.body && error.body.error;
    if (code !== "assistant_not_available" && code !== "assistant_paused") return false;
    showNotice(error.body, code);
    showAlert("");
    return true;
  }

  function applyOrdering(ordering) {
    if (!ordering) return;
    if (ordering.taking_orders === false) showNotice(ordering, ordering.code || "assistant_paused");
    else if (notice.getAttribute("data-kind") === "assistant_paused") notice.hidden = true;
  }

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
    updateCounter();
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 140) + "px";
  }

  launcher.addEventListener("click", function () {
    if (panel.hidden) open();
    else close();
  });
  skip.addEventListener("click", function () {
    if (panel.hidden) open();
    else if (!signIn.hidden) signInLink.focus();
    else input.focus();
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
      form.requestSubmit ? form.requestSubmit() : send(input.value, null, true);
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
    send(input.value, null, true);
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
    var pageSkip = document.querySelector("body > a.skip-link");
    document.body.insertBefore(skip, pageSkip ? pageSkip.nextSibling : document.body.firstChild);
    updateSendButton();
    // The chat stays open across page loads of the same tab (the conversation itself is kept per user).
    if (recall(session, "open")) open();
  }

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
