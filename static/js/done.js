// Receipt page and poster: copy, print, and save the proof as an image.
(function () {
  "use strict";
  document.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });

  var printProof = document.getElementById("print-proof");
  if (printProof) { printProof.addEventListener("click", function () { window.print(); }); }
  var printPoster = document.getElementById("print-poster");
  if (printPoster) { printPoster.addEventListener("click", function () { window.print(); }); }

  var card = document.getElementById("receipt-card");
  if (!card) { return; }
  var data = card.dataset;

  var copy = document.getElementById("copy-receipt");
  if (copy) {
    if (!navigator.clipboard) { copy.hidden = true; }
    copy.addEventListener("click", function () {
      navigator.clipboard.writeText(data.receipt).then(function () {
        copy.textContent = copy.getAttribute("data-done-label");
      });
    });
  }

  // The image holds the tracking number, receipt, date and category only:
  // never anything that could identify the reporter.
  var save = document.getElementById("save-image");
  var FONT = 'system-ui, -apple-system, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';
  var MONO = 'ui-monospace, Menlo, Consolas, "Liberation Mono", monospace';

  // Write text no wider than maxWidth, shrinking the font if it must.
  function fitText(ctx, text, x, y, maxWidth, weight, size, family) {
    do {
      ctx.font = weight + " " + size + "px " + family;
      size -= 1;
    } while (ctx.measureText(text).width > maxWidth && size > 9);
    ctx.fillText(text, x, y);
  }

  function drawProof() {
    var scale = 2, width = 640, height = 500, pad = 28, inner = width - 2 * pad;
    var canvas = document.createElement("canvas");
    canvas.width = width * scale;
    canvas.height = height * scale;
    var ctx = canvas.getContext("2d");
    ctx.scale(scale, scale);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, width, height);
    ctx.fillStyle = "#0b4ea2";
    ctx.fillRect(0, 0, width, 84);
    ctx.fillStyle = "#ffffff";
    fitText(ctx, data.site, pad, 32, inner, "600", 15, FONT);
    fitText(ctx, data.title, pad, 66, inner, "bold", 24, FONT);
    var rows = [[data.labelTracking, data.tracking, MONO, 24, "#1b1b1b"],
                [data.labelReceipt, data.receipt, MONO, 32, "#083a78"],
                [data.labelDate, data.date, FONT, 22, "#1b1b1b"],
                [data.labelCategory, data.category, FONT, 22, "#1b1b1b"]];
    rows.forEach(function (row, i) {
      var y = 128 + i * 72;
      ctx.fillStyle = "#4a5568";
      fitText(ctx, row[0], pad, y, inner, "normal", 16, FONT);
      ctx.fillStyle = row[4];
      fitText(ctx, row[1], pad, y + 36, inner, "bold", row[3], row[2]);
    });
    ctx.strokeStyle = "#cfd6e3";
    ctx.beginPath();
    ctx.moveTo(pad, height - 74);
    ctx.lineTo(width - pad, height - 74);
    ctx.stroke();
    ctx.fillStyle = "#b3261e";
    fitText(ctx, data.keep, pad, height - 46, inner, "600", 15, FONT);
    ctx.fillStyle = "#4a5568";
    fitText(ctx, data.note, pad, height - 20, inner, "normal", 14, FONT);
    return canvas;
  }

  if (save) {
    save.addEventListener("click", function () {
      var canvas = drawProof();
      var url = canvas.toDataURL("image/png");
      // Shown on the page too: in-app browsers (WeChat) ignore downloads,
      // but a long press on the image saves it to the photo album.
      var figure = document.getElementById("receipt-image");
      var img = document.getElementById("receipt-image-img");
      if (figure && img) {
        img.src = url;
        figure.hidden = false;
      }
      var link = document.createElement("a");
      link.href = url;
      link.download = "jidu-" + data.tracking + ".png";
      document.body.appendChild(link);
      link.click();
      link.remove();
    });
  }
}());
