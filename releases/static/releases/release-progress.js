// Polls the computation's progress and reloads the page once it has finished.
(function () {
  const box = document.getElementById("release-progress");
  if (!box) return;
  const bar = box.querySelector("progress");
  const text = box.querySelector(".progress-text");
  const tick = () => fetch(box.dataset.url, {credentials: "same-origin"})
    .then((response) => response.json())
    .then((state) => {
      if (!state.computing) { window.location.reload(); return; }
      bar.value = state.progress;
      text.textContent = Math.round(state.progress * 100) + "% " + state.message;
      setTimeout(tick, 2000);
    })
    .catch(() => setTimeout(tick, 5000));
  setTimeout(tick, 2000);
})();
