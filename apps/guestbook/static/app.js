// guestbook: a little progressive enhancement.  Without JavaScript the form
// posts and the page reloads; with it, the entry is sent to the JSON API
// and shown at once, and the message field counts what is left.
'use strict';
(function () {
  const form = document.querySelector('form#sign');
  const list = document.querySelector('ol#entries');
  const message = form && form.querySelector('textarea[name=message]');
  const count = document.querySelector('#count');
  const max = message ? Number(message.getAttribute('maxlength')) : 0;
  function left() { if (count) count.textContent = (max - message.value.length) + ' left'; }
  if (message) { message.addEventListener('input', left); left(); }
  function show(error) {
    let box = document.querySelector('.error');
    if (!error) { if (box) box.remove(); return; }
    if (!box) { box = document.createElement('p'); box.className = 'error'; form.prepend(box); }
    box.textContent = error;
  }
  function item(e) {
    const li = document.createElement('li');
    const who = document.createElement('span'); who.className = 'who'; who.textContent = e.name;
    const when = document.createElement('time');
    when.dateTime = new Date(e.at).toISOString();
    when.textContent = new Date(e.at).toLocaleString();
    const p = document.createElement('p'); p.textContent = e.message;
    li.append(who, when, p);
    return li;
  }
  if (!form) return;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const field = (n) => form.elements.namedItem(n);
    const data = { name: field('name').value, message: field('message').value };
    try {
      const res = await fetch('/api/entries', { method: 'POST',
        headers: { 'content-type': 'application/json' }, body: JSON.stringify(data) });
      const body = await res.json();
      if (!res.ok) return show(body.error || 'the entry could not be saved');
      show(null);
      list.prepend(item(body.entry));
      const empty = document.querySelector('#empty'); if (empty) empty.remove();
      field('message').value = ''; left();
    } catch (e) {
      form.submit(); // the API is out of reach: fall back to the plain form
    }
  });
})();
