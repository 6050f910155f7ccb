/* The local chat page: vanilla JavaScript, no network access beyond this server.
 * Every piece of text goes into the page with textContent, never innerHTML. */
(function () {
  "use strict";

  var SENDER_KEY = "webchat.sender";
  var SPEAK_KEY = "webchat.readAloud";
  var SENDER_RE = /^[A-Za-z0-9_-]{8,64}$/;
  var HUMAN_TEXT = "I want to talk to a person";
  var NETWORK_ERROR = "I couldn't reach the assistant. Please check it is running and try again.";
  var REQUEST_TIMEOUT_MS = 120000;
  var MAX_RECORDING_SECONDS = 60;
  var MIC_DENIED = "I can't use the microphone. Please allow it in your browser, or type your message.";
  var VOICE_SENT = "🎤 Voice message";

  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("text");
  var sendButton = document.getElementById("send");
  var humanButton = document.getElementById("human");
  var againButton = document.getElementById("again");
  var speakButton = document.getElementById("speak");
  var typing = document.getElementById("typing");
  var micButton = document.getElementById("mic");
  var recordingPanel = document.getElementById("recording");
  var recordingTime = document.getElementById("rec-time");
  var recordingSend = document.getElementById("rec-send");
  var recordingCancel = document.getElementById("rec-cancel");

  var busy = false;
  var lastBot = null;
  var seenEvents = new Set();

  // ------------------------------------------------------------------ storage

  function load(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }

  function save(key, value) {
    try { window.localStorage.setItem(key, value); } catch (e) { /* private mode */ }
  }

  function newSenderId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function resolveSender() {
    var override = new URLSearchParams(window.location.search).get("sender");
    if (override && SENDER_RE.test(override)) { return override; }
    var stored = load(SENDER_KEY);
    if (stored && SENDER_RE.test(stored)) { return stored; }
    var id = newSenderId();
    save(SENDER_KEY, id);
    return id;
  }

  var sender = resolveSender();
  var lastEventKey = "webchat.lastEventId." + sender;

  // ------------------------------------------------------------------ speech

  var canSpeak = "speechSynthesis" in window && "SpeechSynthesisUtterance" in window;
  var readAloud = canSpeak && load(SPEAK_KEY) === "on";

  function showSpeakState() {
    speakButton.setAttribute("aria-pressed", readAloud ? "true" : "false");
    document.getElementById("speak-state").textContent = readAloud ? "On" : "Off";
  }

  function speak(text, interrupt) {
    if (!canSpeak || !text) { return; }
    try {
      if (interrupt) { window.speechSynthesis.cancel(); }
      var utterance = new window.SpeechSynthesisUtterance(text);
      utterance.lang = document.documentElement.lang || "en";
      utterance.rate = 0.9;
      window.speechSynthesis.speak(utterance);
    } catch (e) { /* speech is a nicety; never break the chat for it */ }
  }

  // ------------------------------------------------------------------ rendering

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function addParagraph(parent, text, className) {
    var p = document.createElement("p");
    p.className = className || "text";
    p.textContent = text;
    parent.appendChild(p);
    return p;
  }

  function safeImageUrl(url) {
    if (typeof url !== "string") { return null; }
    try {
      var parsed = new URL(url, window.location.href);
      return /^(https?:|data:)$/.test(parsed.protocol) ? parsed.href : null;
    } catch (e) { return null; }
  }

  function messageText(message) {
    var parts = [];
    if (typeof message.text === "string" && message.text) { parts.push(message.text); }
    if (message.custom && typeof message.custom.text === "string") { parts.push(message.custom.text); }
    if (typeof message.attachment === "string" && message.attachment) { parts.push(message.attachment); }
    return parts.join("\n");
  }

  function downloadOf(message) {
    var download = message.custom && message.custom.download;
    if (!download || typeof download.content !== "string" || typeof download.filename !== "string") { return null; }
    return download;
  }

  function makeDownload(download) {
    var blob = new Blob([download.content], { type: download.mime || "application/json" });
    var link = document.createElement("a");
    link.className = "download";
    link.href = URL.createObjectURL(blob);
    link.download = download.filename.replace(/[^A-Za-z0-9._-]/g, "_");
    link.textContent = download.label || "Download the file";
    return link;
  }

  function formatTime(iso) {
    var when = new Date(iso);
    if (isNaN(when.getTime())) { return ""; }
    var options = { hour: "2-digit", minute: "2-digit" };
    if (new Date().toDateString() !== when.toDateString()) {
      options.weekday = "long";
      options.day = "numeric";
      options.month = "long";
    }
    return "Sent " + when.toLocaleString(undefined, options);
  }

  function addUserMessage(text) {
    var bubble = document.createElement("div");
    bubble.className = "msg user";
    addParagraph(bubble, text);
    log.appendChild(bubble);
    scrollToEnd();
  }

  function addBotMessage(message, options) {
    options = options || {};
    var text = messageText(message);
    var imageUrl = safeImageUrl(message.image);
    var buttons = Array.isArray(message.buttons) ? message.buttons : [];
    var download = downloadOf(message);
    if (!text && !imageUrl && !buttons.length && !download) { return; }

    var bubble = document.createElement("div");
    bubble.className = "msg bot" + (options.extraClass ? " " + options.extraClass : "");
    if (text) { addParagraph(bubble, text); }
    if (imageUrl) {
      var img = document.createElement("img");
      img.src = imageUrl;
      img.alt = "Picture from the assistant";
      img.className = "picture";
      img.addEventListener("error", function () {
        var note = document.createElement("p");
        note.className = "text";
        note.textContent = "(The picture could not be shown.)";
        if (img.parentNode) { img.parentNode.replaceChild(note, img); }
      });
      bubble.appendChild(img);
    }
    if (download) { bubble.appendChild(makeDownload(download)); }
    if (buttons.length) { bubble.appendChild(makeChoices(buttons)); }
    if (options.timestamp) {
      var time = formatTime(options.timestamp);
      if (time) { addParagraph(bubble, time, "time"); }
    }
    log.appendChild(bubble);
    scrollToEnd();

    if (text) {
      lastBot = { text: text, image: imageUrl };
      if (readAloud && !options.silent) { speak(text, false); }
    }
  }

  function makeChoices(buttons) {
    var group = document.createElement("div");
    group.className = "choices";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Choices");
    buttons.forEach(function (choice) {
      if (!choice || (choice.title == null && choice.payload == null)) { return; }
      var title = String(choice.title != null ? choice.title : choice.payload);
      var payload = String(choice.payload != null ? choice.payload : choice.title);
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = title;
      button.addEventListener("click", function () {
        if (busy || group.classList.contains("used")) { return; }
        group.classList.add("used");
        Array.prototype.forEach.call(group.querySelectorAll("button"), function (b) {
          b.disabled = true;
        });
        button.classList.add("chosen");
        button.setAttribute("aria-pressed", "true");
        addUserMessage(title);
        if (typeof choice.reply === "string") {
          addBotMessage({ text: choice.reply });  // answered here: nothing goes to the assistant
          return;
        }
        post({ sender: sender, payload: payload, title: title });
      });
      group.appendChild(button);
    });
    return group;
  }

  function addNetworkError(body) {
    var bubble = document.createElement("div");
    bubble.className = "msg error";
    bubble.setAttribute("role", "alert");
    addParagraph(bubble, NETWORK_ERROR);
    var group = document.createElement("div");
    group.className = "choices retry";
    var retry = document.createElement("button");
    retry.type = "button";
    retry.textContent = "Try again";
    retry.addEventListener("click", function () {
      if (busy) { return; }
      retry.disabled = true;
      bubble.classList.add("used");
      post(body);
    });
    group.appendChild(retry);
    bubble.appendChild(group);
    log.appendChild(bubble);
    scrollToEnd();
    if (readAloud) { speak(NETWORK_ERROR, false); }
  }

  // ------------------------------------------------------------------ talking to the server

  function setBusy(value) {
    busy = value;
    typing.hidden = !value;
    sendButton.disabled = value;
    humanButton.disabled = value;
    micButton.disabled = value;
    log.setAttribute("aria-busy", value ? "true" : "false");
  }

  function exchange(url, contentType, body, onFailure) {
    setBusy(true);
    var controller = "AbortController" in window ? new AbortController() : null;
    var timer = controller ? window.setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : null;
    return window.fetch(url, {
      method: "POST",
      headers: { "Content-Type": contentType },
      body: body,
      cache: "no-store",
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).then(function (data) {
      (data && Array.isArray(data.messages) ? data.messages : []).forEach(function (message) {
        addBotMessage(message);
      });
    }).catch(function () {
      onFailure();
    }).then(function () {
      if (timer) { window.clearTimeout(timer); }
      setBusy(false);
      input.focus();
    });
  }

  function post(body) {
    return exchange("message", "application/json", JSON.stringify(body), function () { addNetworkError(body); });
  }

  // ------------------------------------------------------------------ the microphone

  var canRecord = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.MediaRecorder);
  var recorder = null;
  var recordingStream = null;
  var recordingChunks = [];
  var recordingDiscarded = false;
  var recordingTimer = null;
  var recordingStarted = 0;

  function recordingType() {
    var types = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/mp4"];
    for (var i = 0; i < types.length; i++) {
      if (window.MediaRecorder.isTypeSupported(types[i])) { return types[i]; }
    }
    return "";
  }

  function showRecording(on) {
    recordingPanel.hidden = !on;
    micButton.hidden = on;
    input.disabled = on;
    sendButton.disabled = on;
    if (on) { recordingSend.focus(); } else { micButton.focus(); }
  }

  function tickRecording() {
    var seconds = Math.floor((Date.now() - recordingStarted) / 1000);
    recordingTime.textContent = Math.floor(seconds / 60) + ":" + ("0" + (seconds % 60)).slice(-2);
    if (seconds >= MAX_RECORDING_SECONDS) { stopRecording(false); }  // a minute at most: send what there is
  }

  function startRecording() {
    if (busy || recorder) { return; }
    navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
      var type = recordingType();
      recordingStream = stream;
      recordingChunks = [];
      recordingDiscarded = false;
      recorder = type ? new window.MediaRecorder(stream, { mimeType: type }) : new window.MediaRecorder(stream);
      recorder.ondataavailable = function (event) {
        if (event.data && event.data.size) { recordingChunks.push(event.data); }
      };
      recorder.onstop = finishRecording;
      recorder.start(250);
      recordingStarted = Date.now();
      recordingTime.textContent = "0:00";
      recordingTimer = window.setInterval(tickRecording, 250);
      showRecording(true);
    }).catch(function () {
      addBotMessage({ text: MIC_DENIED });
    });
  }

  function stopRecording(discard) {
    if (!recorder || recorder.state === "inactive") { return; }
    recordingDiscarded = discard;
    recorder.stop();
  }

  function finishRecording() {
    window.clearInterval(recordingTimer);
    recordingStream.getTracks().forEach(function (track) { track.stop(); });
    var type = (recorder.mimeType || "audio/webm").split(";")[0];
    var blob = new Blob(recordingChunks, { type: type });
    recorder = null;
    recordingChunks = [];
    showRecording(false);
    if (recordingDiscarded) { return; }
    addUserMessage(VOICE_SENT);
    exchange("voice?sender=" + encodeURIComponent(sender), type, blob, function () {
      addBotMessage({ text: NETWORK_ERROR });
    });
  }

  function sendText(text) {
    if (busy) { return false; }
    if (text.trim()) { addUserMessage(text); }
    post({ sender: sender, message: text });
    return true;
  }

  // ------------------------------------------------------------------ proactive messages

  function connectEvents() {
    if (!("EventSource" in window)) { return; }
    var url = "events?sender=" + encodeURIComponent(sender);
    var last = load(lastEventKey);
    if (last && /^[0-9]+$/.test(last)) { url += "&last_event_id=" + last; }
    var source = new window.EventSource(url);
    source.onmessage = function (event) {
      var id = event.lastEventId;
      if (id) {
        if (seenEvents.has(id)) { return; }
        seenEvents.add(id);
        var previous = load(lastEventKey);
        if (!previous || Number(id) > Number(previous)) { save(lastEventKey, id); }
      }
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (message && typeof message === "object") {
        addBotMessage(message, { timestamp: message.timestamp, extraClass: "proactive" });
      }
    };
    // EventSource reconnects by itself and sends Last-Event-ID when it does.
  }

  // ------------------------------------------------------------------ wiring

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (sendText(input.value)) { input.value = ""; }
    input.focus();
  });

  humanButton.addEventListener("click", function () {
    sendText(HUMAN_TEXT);
    input.focus();
  });

  againButton.addEventListener("click", function () {
    var again = lastBot;
    if (!again) {
      var welcome = log.querySelector(".welcome .text");
      again = { text: welcome ? welcome.textContent : "", image: null };
    }
    if (again.text || again.image) {
      addBotMessage({ text: again.text, image: again.image }, { extraClass: "repeat", silent: true });
      speak(again.text, true);
    }
    input.focus();
  });

  if (canSpeak) {
    speakButton.hidden = false;
    showSpeakState();
    speakButton.addEventListener("click", function () {
      readAloud = !readAloud;
      save(SPEAK_KEY, readAloud ? "on" : "off");
      showSpeakState();
      if (!readAloud) { window.speechSynthesis.cancel(); }
      input.focus();
    });
  } else {
    speakButton.parentNode.removeChild(speakButton);
  }

  if (canRecord) {
    micButton.addEventListener("click", startRecording);
    recordingSend.addEventListener("click", function () { stopRecording(false); });
    recordingCancel.addEventListener("click", function () { stopRecording(true); });
    // The microphone shows only where the assistant can listen (its speech server is on).
    window.fetch("voice", { cache: "no-store" }).then(function (response) {
      return response.ok ? response.json() : { available: false };
    }).then(function (data) {
      micButton.hidden = !(data && data.available === true);
    }).catch(function () { /* no microphone then; typing still works */ });
  }

  document.documentElement.setAttribute("data-sender", sender);
  connectEvents();
  input.focus();
})();
