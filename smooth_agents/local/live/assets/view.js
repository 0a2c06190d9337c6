// The live view of a task (see live.py and live_socket.py): pictures pushed over a WebSocket as
// the page changes; on an interactive view, the person's mouse and keys sent back to the page.
"use strict";
(() => {
  const config = JSON.parse(document.getElementById("config").textContent);
  const $ = (id) => document.getElementById(id);
  const frame = $("frame"), keys = $("keys"), notice = $("notice"), control = $("control");
  const handover = $("handover"), doneButton = $("done");
  const BUTTONS = ["left", "middle", "right"];
  // What tests and benchmarks read: frames shown so far, and the last state.
  const view = (window.liveView = { frames: 0, state: null, ended: false });
  let socket = null;
  let shown = null; // the object URL of the picture on screen
  let pressed = null; // the mouse button held down on the picture
  let typing = false; // keys go to the page
  let composing = false;
  let deadline = null;
  let failures = 0; // connections lost in a row

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(scheme + "//" + location.host + config.socket);
    socket.binaryType = "blob";
    socket.onmessage = (event) => {
      if (typeof event.data === "string") onMessage(JSON.parse(event.data));
      else showFrame(event.data);
    };
    socket.onclose = (event) => {
      if (event.code === 4410 || event.code === 4404) {
        view.ended = true;
        document.body.classList.remove("typing");
        notice.textContent = event.reason || "The live view has ended.";
        handover.hidden = true;
        return;
      }
      failures += 1;
      if (failures > 10) {
        notice.textContent = "The live view cannot reach the server; reload the page to try again.";
        return;
      }
      notice.textContent = "Connection lost; reconnecting...";
      setTimeout(connect, Math.min(5000, 500 * failures));
    };
    socket.onopen = () => {
      failures = 0;
      notice.textContent = "";
    };
  }

  function showFrame(blob) {
    const url = URL.createObjectURL(blob);
    if (shown) URL.revokeObjectURL(shown);
    shown = url;
    frame.src = url;
    view.frames += 1;
  }

  function onMessage(message) {
    if (message.type === "state") showState(message);
    else if (message.type === "refused") notice.textContent = message.reason;
  }

  function showState(state) {
    view.state = state;
    $("status").textContent = state.status;
    $("url").textContent = state.url || "";
    showSteps(state.steps || []);
    showControl(state.controllers || 0);
    const pending = state.hand_over;
    handover.hidden = !pending;
    if (pending) {
      $("handover-message").textContent = pending.message || "The browser is yours: press Done when you have finished.";
      deadline = pending.deadline;
      doneButton.disabled = !config.interactive;
      tick();
    } else {
      deadline = null;
    }
  }

  function showSteps(steps) {
    const list = $("steps");
    list.replaceChildren(...steps.slice().reverse().map((s) => {
      const item = document.createElement("li");
      item.textContent = s.name + (s.target ? " " + s.target : "") + (s.outcome ? ": " + s.outcome : "");
      return item;
    }));
    if (steps.length) list.start = steps[steps.length - 1].step || steps.length;
  }

  function showControl(controllers) {
    control.classList.toggle("in-control", config.interactive);
    control.classList.toggle("person", !config.interactive && controllers > 0);
    if (config.interactive) {
      control.textContent = typing
        ? "You are in control: clicks and keys go to the page"
        : "You are in control: click the page to type in it";
    } else {
      control.textContent = controllers > 0 ? "A person is in control (view only here)" : "View only";
    }
  }

  function tick() {
    if (deadline === null) return;
    const left = Math.max(0, Math.round(deadline - Date.now() / 1000));
    $("handover-time").textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0") + " left";
    setTimeout(tick, 1000);
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  doneButton.addEventListener("click", () => {
    doneButton.disabled = true;
    send({ type: "done" });
  });

  if (config.interactive) {
    const clamp = (v) => Math.min(1, Math.max(0, v));
    const point = (event) => {
      const box = frame.getBoundingClientRect();
      return { x: clamp((event.clientX - box.left) / box.width), y: clamp((event.clientY - box.top) / box.height) };
    };
    const modifiers = (event) => {
      const held = [];
      if (event.altKey) held.push("Alt");
      if (event.ctrlKey) held.push("Control");
      if (event.metaKey) held.push("Meta");
      if (event.shiftKey) held.push("Shift");
      return held;
    };
    const setTyping = (on) => {
      typing = on;
      document.body.classList.toggle("typing", on);
      showControl(view.state ? view.state.controllers : 1);
    };
    let move = null;
    const sendMove = () => {
      if (move) send(move);
      move = null;
    };

    frame.addEventListener("mousedown", (event) => {
      event.preventDefault();
      keys.focus({ preventScroll: true }); // keys typed now go to the page
      pressed = BUTTONS[event.button] || "left";
      send({ type: "mouse", action: "down", ...point(event), button: pressed, clicks: Math.min(3, event.detail || 1), modifiers: modifiers(event) });
    });
    window.addEventListener("mouseup", (event) => {
      if (pressed === null) return;
      sendMove();
      send({ type: "mouse", action: "up", ...point(event), button: pressed, clicks: Math.min(3, event.detail || 1), modifiers: modifiers(event) });
      pressed = null;
    });
    window.addEventListener("mousemove", (event) => {
      if (pressed === null && event.target !== frame) return;
      if (!move) requestAnimationFrame(sendMove);
      move = { type: "mouse", action: "move", ...point(event), modifiers: modifiers(event) };
    });
    frame.addEventListener("wheel", (event) => {
      event.preventDefault();
      const scale = event.deltaMode === 1 ? 40 : event.deltaMode === 2 ? 800 : 1;
      send({ type: "mouse", action: "wheel", ...point(event), dx: event.deltaX * scale, dy: event.deltaY * scale, modifiers: modifiers(event) });
    }, { passive: false });
    frame.addEventListener("contextmenu", (event) => event.preventDefault());

    keys.addEventListener("focus", () => setTyping(true));
    keys.addEventListener("blur", () => setTyping(false));
    keys.addEventListener("keydown", (event) => {
      if (event.isComposing || composing || event.key === "Process" || event.key === "Dead") return;
      // A paste brings the person's own clipboard (the paste event below), not the page's.
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "v") return;
      event.preventDefault();
      send({ type: "key", key: event.key, modifiers: modifiers(event) });
    });
    keys.addEventListener("paste", (event) => {
      event.preventDefault();
      const text = event.clipboardData ? event.clipboardData.getData("text/plain") : "";
      if (text) send({ type: "text", text });
    });
    keys.addEventListener("compositionstart", () => { composing = true; });
    keys.addEventListener("compositionend", (event) => {
      composing = false;
      if (event.data) send({ type: "text", text: event.data });
      keys.value = "";
    });
    // Text that came without a key the page could be sent (an emoji picker, a screen keyboard).
    keys.addEventListener("input", (event) => {
      if (composing) return;
      if (event.inputType === "insertText" && event.data) send({ type: "text", text: event.data });
      keys.value = "";
    });
  }

  showControl(0);
  connect();
})();
