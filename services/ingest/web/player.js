// The audio player: seek to a word, highlight the word being spoken, follow it on screen.

export function initPlayer(audio, follow) {
  let words = []; // the .word elements in time order
  let starts = []; // their data-start, for a binary search
  let current = null;
  let frame = 0;

  function wordAt(time) {
    let low = 0;
    let high = starts.length - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (starts[middle] <= time) {
        found = middle;
        low = middle + 1;
      } else high = middle - 1;
    }
    return found < 0 ? null : words[found];
  }

  function highlight() {
    const word = wordAt(audio.currentTime);
    if (word === current) return;
    current?.classList.remove("current");
    current = word;
    if (!word) return;
    word.classList.add("current");
    if (follow.checked && !audio.paused) {
      // the player sticks to the top of the window: a word under it is out of sight too
      const covered = audio.closest(".player-box")?.getBoundingClientRect().bottom ?? 0;
      const box = word.getBoundingClientRect();
      if (box.top < covered || box.bottom > window.innerHeight) word.scrollIntoView({ block: "center" });
    }
  }

  function tick() {
    highlight();
    frame = audio.paused ? 0 : requestAnimationFrame(tick);
  }

  audio.addEventListener("play", () => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(tick);
  });
  audio.addEventListener("seeked", highlight);
  audio.addEventListener("timeupdate", highlight);

  return {
    /** Point the player at a recording; keeps the position when it is the same one. */
    setSource(url) {
      if (audio.getAttribute("src") === url) return;
      if (url) audio.setAttribute("src", url);
      else {
        audio.pause();
        audio.removeAttribute("src");
        audio.load();
      }
    },
    /** Remember the clickable words under root (after the transcript is drawn). */
    index(root) {
      current = null;
      words = [...root.querySelectorAll(".word")];
      starts = words.map((word) => Number(word.dataset.start));
      highlight();
    },
    /** Move to a time without starting playback (the transcript editor's cursor leads the audio). */
    cue(time) {
      const go = () => {
        audio.currentTime = time;
      };
      if (audio.readyState >= 1) go();
      else audio.addEventListener("loadedmetadata", go, { once: true });
    },
    seek(time) {
      const go = () => {
        audio.currentTime = time;
        audio.play().catch(() => {}); // autoplay refused: the position is still set
      };
      if (audio.readyState >= 1) go();
      else audio.addEventListener("loadedmetadata", go, { once: true });
    },
  };
}
