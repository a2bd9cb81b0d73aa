// Realistic mode switch on the overview: reads and sets POST/GET /_sandbox/realistic.
(function () {
  const box = document.getElementById("realistic");
  const label = document.getElementById("realistic-state");
  if (!box) return;
  function show(enabled) {
    box.checked = enabled; box.disabled = false;
    label.textContent = enabled ? "включён" : "выключен";
  }
  fetch("/_sandbox/realistic").then(function (r) {
    if (!r.ok) throw new Error(r.status);
    return r.json();
  }).then(function (body) { show(Boolean(body.enabled)); }).catch(function () {
    label.textContent = "недоступен в этой сборке песочницы";
  });
  box.addEventListener("change", function () {
    box.disabled = true;
    fetch("/_sandbox/realistic", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({enabled: box.checked})})
      .then(function (r) { return r.json(); }).then(function (body) { show(Boolean(body.enabled)); })
      .catch(function () { label.textContent = "не удалось переключить"; box.disabled = false; });
  });
})();
