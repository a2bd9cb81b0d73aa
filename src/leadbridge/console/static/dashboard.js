// Live dashboard: every few seconds ask whether the ledger changed; if so, swap in the fresh page.
(function () {
  const live = document.getElementById("live");
  let signature = live.dataset.signature;
  async function tick() {
    try {
      const summary = await (await fetch("/api/summary", {cache: "no-store"})).json();
      if (summary.signature !== signature) {
        const html = await (await fetch("/", {cache: "no-store"})).text();
        const fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelector("main").replaceWith(fresh.querySelector("main"));
        const freshLive = fresh.getElementById("live");
        live.className = freshLive.className;
        live.textContent = freshLive.textContent;
        signature = freshLive.dataset.signature;
        live.dataset.signature = signature;
      }
    } catch (err) {
      live.textContent = "○ нет связи с панелью";
    }
    setTimeout(tick, document.hidden ? 10000 : 2000);
  }
  setTimeout(tick, 2000);
})();
