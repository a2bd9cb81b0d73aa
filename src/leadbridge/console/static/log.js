// Live request log: new entries arrive by server-sent events; filters act in the page;
// a click on a row fetches that entry's body (redacted by the server).
(function () {
  const rows = document.getElementById("log-rows");
  const form = document.getElementById("log-filters");
  const live = document.getElementById("live");
  const names = JSON.parse(document.getElementById("company-names").innerHTML || "{}");
  const MAX_ROWS = 500;

  function filters() {
    const data = new FormData(form);
    return {method: data.get("method"), path: (data.get("path") || "").toLowerCase(), status: data.get("status"),
            api: data.get("api"), tenant: data.get("tenant"), fault: data.get("fault") === "on"};
  }
  function visible(tr, f) {
    const d = tr.dataset;
    return (!f.method || d.method === f.method) && (!f.path || d.path.toLowerCase().includes(f.path)) &&
      (!f.status || d.status.charAt(0) === f.status) && (!f.api || d.api === f.api) &&
      (!f.tenant || d.tenant === f.tenant) && (!f.fault || d.fault !== "");
  }
  function apply() {
    const f = filters();
    rows.querySelectorAll("tr.entry").forEach(function (tr) {
      tr.hidden = !visible(tr, f);
      const next = tr.nextElementSibling;
      if (next && next.classList.contains("body")) next.hidden = tr.hidden;
    });
  }
  function cell(text, cls) {
    const td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text;
    return td;
  }
  function row(e) {
    const tr = document.createElement("tr");
    tr.className = "entry fresh" + (e.fault ? " fault" : "");
    tr.tabIndex = 0;
    Object.assign(tr.dataset, {id: e.id, method: e.method, path: e.path, status: String(e.status), api: e.api,
                               tenant: e.company_id || "", fault: e.fault || ""});
    tr.append(cell(e.id, "mono"), cell(e.at.slice(11, 19)), cell(e.method),
              cell(e.path + (e.query ? "?" + e.query : ""), "mono path"));
    const status = cell("", "n");
    const badge = document.createElement("span");
    badge.className = "status s" + String(e.status).charAt(0);
    badge.textContent = e.status;
    status.append(badge);
    if (e.fault) {
      const mark = document.createElement("span");
      mark.className = "fault-mark";
      mark.textContent = " сбой: " + e.fault;
      status.append(mark);
    }
    tr.append(status, cell(e.api), cell(names[e.company_id] || "—"));
    return tr;
  }
  function toggle(tr) {
    const next = tr.nextElementSibling;
    if (next && next.classList.contains("body")) { next.remove(); return; }
    fetch(rows.dataset.entry + tr.dataset.id).then(function (r) { return r.json(); }).then(function (e) {
      const body = document.createElement("tr");
      body.className = "body";
      const td = cell(e.body === null || e.body === undefined ? "(без тела)" :
        (typeof e.body === "string" ? e.body : JSON.stringify(e.body, null, 2)));
      td.colSpan = 7;
      body.append(td);
      tr.after(body);
    });
  }
  rows.addEventListener("click", function (ev) {
    const tr = ev.target.closest("tr.entry");
    if (tr) toggle(tr);
  });
  rows.addEventListener("keydown", function (ev) {
    const tr = ev.target.closest("tr.entry");
    if (tr && (ev.key === "Enter" || ev.key === " ")) { ev.preventDefault(); toggle(tr); }
  });
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);

  const source = new EventSource(rows.dataset.stream + "?after=" + rows.dataset.after);
  source.onopen = function () { live.classList.remove("off"); live.textContent = "● вживую"; };
  source.onerror = function () { live.classList.add("off"); live.textContent = "○ переподключаюсь…"; };
  source.onmessage = function (ev) {
    const tr = row(JSON.parse(ev.data));
    tr.hidden = !visible(tr, filters());
    rows.prepend(tr);
    while (rows.querySelectorAll("tr.entry").length > MAX_ROWS) rows.lastElementChild.remove();
  };
})();
