// The door page, enhanced: answers stay on the page, the camera scans where the browser can.
// Without this script the page still works through its plain forms.
(function () {
  "use strict";
  const door = document.querySelector(".door");
  if (!door) return;
  const base = "/organiser/events/" + door.dataset.slug + "/check-in/";
  const result = document.getElementById("door-result");
  const codeField = document.getElementById("door-code");
  let busy = false;
  let lastCode = "";
  let lastAt = 0;

  function show(answer) {
    result.className = "door-result door-" + answer.outcome;
    result.replaceChildren();
    // The verdict in words, never by colour alone (green, amber, red).
    const verdict = document.createElement("p");
    verdict.className = "door-verdict";
    verdict.textContent = door.dataset["verdict" + answer.outcome[0].toUpperCase() + answer.outcome.slice(1)];
    result.append(verdict);
    const message = document.createElement("p");
    message.className = "door-message";
    if (answer.link) {
      const link = document.createElement("a");
      link.href = answer.link;
      link.textContent = answer.message;
      message.append(link);
    } else {
      message.textContent = answer.message;
    }
    result.append(message);
    if (answer.name) {
      const name = document.createElement("p");
      name.className = "door-name";
      name.textContent = answer.name;
      const org = document.createElement("p");
      org.className = "door-org";
      org.textContent = answer.organisation || "";
      result.append(name, org);
    }
    if (typeof answer.checked_in === "number") {
      document.getElementById("checked-in").textContent = answer.checked_in;
      document.getElementById("confirmed").textContent = answer.confirmed;
    }
    if (navigator.vibrate) navigator.vibrate(answer.outcome === "refused" ? [80, 60, 80] : 60);
  }

  // A lapsed session answers 401 (the server never redirects a script): offer the sign-in.
  function sessionExpired() {
    const back = window.location.pathname + window.location.search;
    show({
      outcome: "refused",
      message: door.dataset.sessionExpired,
      link: "/login?next=" + encodeURIComponent(back),
    });
  }

  // Refusals come as problem details; their `detail` is already in the reader's language.
  async function refusal(response) {
    if (response.status === 401) return sessionExpired();
    let detail = "";
    if ((response.headers.get("content-type") || "").includes("json")) {
      detail = (await response.json()).detail || "";
    }
    show({ outcome: "refused", message: detail || door.dataset.unreadable });
  }

  async function send(code) {
    if (busy || !code) return;
    busy = true;
    try {
      const body = new URLSearchParams({ code: code });
      const response = await fetch(base, {
        method: "POST",
        headers: { Accept: "application/json", "x-csrftoken": door.dataset.csrf },
        body: body,
        credentials: "same-origin",
      });
      if (response.ok) show(await response.json());
      else await refusal(response);
    } catch (error) {
      show({ outcome: "refused", message: door.dataset.unreadable });
    } finally {
      busy = false;
    }
  }

  document.getElementById("door-form").addEventListener("submit", function (event) {
    event.preventDefault();
    const code = codeField.value.trim();
    codeField.value = "";
    send(code);
    codeField.focus();
  });

  async function refreshCounters() {
    try {
      const response = await fetch(base + "counters", {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (response.status === 401) return sessionExpired();
      if (!response.ok) return;
      const counters = await response.json();
      document.getElementById("checked-in").textContent = counters.checked_in;
      document.getElementById("confirmed").textContent = counters.confirmed;
    } catch (error) {
      // The next round tries again.
    }
  }
  setInterval(refreshCounters, 5000);

  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  const startButton = document.getElementById("door-camera-start");
  const stopButton = document.getElementById("door-camera-stop");
  const camera = document.getElementById("door-camera");
  const video = document.getElementById("door-video");
  let stream = null;
  startButton.hidden = false;

  async function scan(detector) {
    if (!stream) return;
    try {
      const codes = await detector.detect(video);
      const now = Date.now();
      if (codes.length && (codes[0].rawValue !== lastCode || now - lastAt > 3000)) {
        lastCode = codes[0].rawValue;
        lastAt = now;
        await send(lastCode);
      }
    } catch (error) {
      // A frame that cannot be read is simply skipped.
    }
    setTimeout(function () { scan(detector); }, 250);
  }

  startButton.addEventListener("click", async function () {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    } catch (error) {
      show({ outcome: "refused", message: String(error) });
      return;
    }
    video.srcObject = stream;
    await video.play();
    camera.hidden = false;
    startButton.hidden = true;
    scan(new BarcodeDetector({ formats: ["qr_code"] }));
  });

  stopButton.addEventListener("click", function () {
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
    camera.hidden = true;
    startButton.hidden = false;
    codeField.focus();
  });
})();
