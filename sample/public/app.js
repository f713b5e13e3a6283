// The sample page: plain JavaScript around pusher-js. Everything user-supplied goes through textContent.
(function () {
  'use strict';

  var ROOM = 'presence-room';
  var VAULT = 'private-encrypted-vault';
  var ACTIVITY = 'activity';
  var TYPING_EVERY_MS = 2000;
  var TYPING_SHOWN_MS = 3000;

  var $ = function (id) {
    return document.getElementById(id);
  };
  var state = { config: null, me: null, pusher: null, room: null, vault: null, lastTypingSent: 0, typing: {} };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function clock(ms) {
    return new Date(ms || Date.now()).toLocaleTimeString([], {
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hour12: false,
    });
  }

  function append(list, item, max) {
    var nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.appendChild(item);
    while (max && list.children.length > max) list.removeChild(list.firstChild);
    if (nearBottom) list.scrollTop = list.scrollHeight;
  }

  function prepend(list, item, max) {
    list.insertBefore(item, list.firstChild);
    while (max && list.children.length > max) list.removeChild(list.lastChild);
  }

  async function api(method, path, body) {
    var response = await fetch(path, {
      method: method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
    var data =
      response.status === 204
        ? null
        : await response.json().catch(function () {
            return null;
          });
    if (!response.ok) {
      var message = data && data.message ? [].concat(data.message).join(' ') : response.statusText;
      throw new Error(message + ' (' + response.status + ')');
    }
    return data;
  }

  // --- errors -------------------------------------------------------------------------------------------------

  function showError(text) {
    var box = $('errors');
    // pusher-js retries after a reconnect; the same refusal once is enough.
    var shown = Array.prototype.some.call(box.children, function (line) {
      return line.textContent === text;
    });
    if (shown) return;
    box.hidden = false;
    append(box, el('p', '', text), 6);
  }

  function clearErrors() {
    var box = $('errors');
    box.textContent = '';
    box.hidden = true;
  }

  function subscriptionError(channelName, error) {
    var status = error && error.status;
    if (status === 403) {
      return 'Refused: the app\'s authorizer did not let "' + state.me.name + '" into ' + channelName + ' (403).';
    }
    return (
      'Could not subscribe to ' +
      channelName +
      ': ' +
      ((error && error.error) || 'unknown error') +
      (status ? ' (' + status + ')' : '')
    );
  }

  // --- presence room ------------------------------------------------------------------------------------------

  function renderMembers() {
    var list = $('members');
    list.textContent = '';
    var room = state.room;
    if (!room || !room.subscribed) return;
    var members = [];
    room.members.each(function (member) {
      members.push(member);
    });
    members.sort(function (a, b) {
      return String(a.info.name).localeCompare(String(b.info.name));
    });
    members.forEach(function (member) {
      var item = el('li');
      item.dataset.userId = member.id;
      var mine = member.id === room.members.me.id;
      item.appendChild(el('span', 'who', member.info.name + (mine ? ' (you)' : '')));
      if (!mine) {
        var nudge = el('button', 'small', 'nudge');
        nudge.type = 'button';
        nudge.title = 'Send ' + member.info.name + ' a private notification';
        nudge.addEventListener('click', function () {
          api('POST', '/notify', { to: member.id }).catch(function (error) {
            showError('Nudge failed: ' + error.message);
          });
        });
        item.appendChild(nudge);
      }
      list.appendChild(item);
    });
    $('member-count').textContent = String(room.members.count);
  }

  function addMessage(list, message, mine) {
    var item = el('li', mine ? 'mine' : '');
    item.appendChild(el('span', 'time', clock(message.sentAt)));
    item.appendChild(el('span', 'from', message.from.name + ':'));
    item.appendChild(el('span', 'text', message.text));
    append(list, item, 200);
  }

  function showTyping(name) {
    state.typing[name] = Date.now() + TYPING_SHOWN_MS;
    renderTyping();
    setTimeout(renderTyping, TYPING_SHOWN_MS + 50);
  }

  function renderTyping() {
    var now = Date.now();
    var names = Object.keys(state.typing).filter(function (name) {
      return state.typing[name] > now;
    });
    $('typing').textContent =
      names.length === 0 ? '' : names.join(', ') + (names.length === 1 ? ' is typing…' : ' are typing…');
  }

  function subscribeRoom(pusher) {
    var room = pusher.subscribe(ROOM);
    state.room = room;
    room.bind('pusher:subscription_succeeded', renderMembers);
    room.bind('pusher:member_added', renderMembers);
    room.bind('pusher:member_removed', function (member) {
      delete state.typing[member.info.name];
      renderTyping();
      renderMembers();
    });
    room.bind('pusher:subscription_error', function (error) {
      showError(subscriptionError(ROOM, error));
      disableForm('message-form', 'You are not in the room.');
    });
    room.bind('message', function (message) {
      addMessage($('messages'), message, false);
    });
    // Client events go browser to browser through the Pusher server; the app only hears of them as webhooks.
    room.bind('client-typing', function (_data, metadata) {
      var member = metadata && metadata.user_id ? room.members.get(metadata.user_id) : null;
      if (member) showTyping(member.info.name);
    });
  }

  // --- encrypted room, notifications, activity ----------------------------------------------------------------

  function subscribeVault(pusher) {
    if (!state.config.encryptedRoom) {
      disableForm('vault-form', 'Not available: the server has no encryption master key.');
      return;
    }
    var vault = pusher.subscribe(VAULT);
    state.vault = vault;
    vault.bind('message', function (message) {
      addMessage($('vault-messages'), message, false);
    });
    vault.bind('pusher:subscription_error', function (error) {
      showError(subscriptionError(VAULT, error));
      disableForm('vault-form', 'You are not in this room.');
    });
  }

  function addNotification(data) {
    var item = el('li');
    item.appendChild(el('span', 'time', clock(data.sentAt)));
    item.appendChild(el('span', 'text', data.text));
    prepend($('notifications'), item, 30);
  }

  function signIn(pusher) {
    var pill = $('signin');
    pusher.connection.bind('message', function (event) {
      if (event.event === 'pusher:signin_success') {
        pill.textContent = 'signed in as ' + state.me.id;
        pill.className = 'pill ok';
        $('notify-me').disabled = false;
      }
    });
    pusher.user.bind('pusher:signin_error', function (error) {
      pill.textContent = 'sign-in refused';
      pill.className = 'pill bad';
      showError(
        error && error.status === 403
          ? 'Refused: the app\'s authorizer would not sign in "' + state.me.name + '" (403), so no notifications.'
          : 'Sign-in failed: ' + ((error && error.error) || 'unknown error'),
      );
    });
    pusher.user.bind('notification', addNotification);
    pusher.signin();
  }

  function addActivity(entry) {
    var item = el('li');
    item.appendChild(el('span', 'time', clock(entry.timeMs)));
    item.appendChild(el('span', 'kind', entry.kind));
    item.appendChild(el('span', 'text', entry.channel + ': ' + entry.text));
    prepend($('activity'), item, 50);
  }

  // --- connecting -----------------------------------------------------------------------------------------------

  function connect() {
    var config = state.config;
    var options = {
      cluster: config.cluster,
      forceTLS: config.forceTLS,
      channelAuthorization: { endpoint: '/pusher/auth', transport: 'ajax' },
      userAuthentication: { endpoint: '/pusher/user-auth', transport: 'ajax' },
    };
    if (config.wsHost) {
      // A self-hosted server (the embedded soketi): plain WebSocket on its own port.
      options.wsHost = config.wsHost;
      options.wsPort = config.wsPort;
      options.wssPort = config.wsPort;
      options.enabledTransports = config.forceTLS ? ['wss'] : ['ws'];
    }
    var pusher = new Pusher(config.key, options);
    state.pusher = pusher;
    pusher.connection.bind('state_change', function (states) {
      var status = $('status');
      status.textContent = state.me.name + ' · ' + states.current;
      status.className = 'status ' + states.current;
    });
    pusher.connection.bind('error', function (error) {
      var data = error && error.error && error.error.data;
      if (data && data.message) showError('Connection error: ' + data.message);
    });
    pusher.subscribe(ACTIVITY).bind('webhook', addActivity);
    signIn(pusher);
    subscribeRoom(pusher);
    subscribeVault(pusher);
  }

  function disableForm(formId, why) {
    var form = $(formId);
    Array.prototype.forEach.call(form.elements, function (control) {
      control.disabled = true;
      if (control.tagName === 'INPUT') control.placeholder = why;
    });
  }

  function enter(me) {
    state.me = me;
    clearErrors();
    $('join').hidden = true;
    $('app').hidden = false;
    $('notify-me').disabled = true;
    connect();
    $('message').focus();
  }

  function wire() {
    $('join').addEventListener('submit', function (event) {
      event.preventDefault();
      api('POST', '/session', { name: $('name').value })
        .then(enter)
        .catch(function (error) {
          showError('Could not join: ' + error.message);
        });
    });

    $('message').addEventListener('input', function () {
      var room = state.room;
      var now = Date.now();
      if (!room || !room.subscribed || now - state.lastTypingSent < TYPING_EVERY_MS) return;
      state.lastTypingSent = now;
      room.trigger('client-typing', {});
    });

    $('message-form').addEventListener('submit', function (event) {
      event.preventDefault();
      send($('message'), '/chat/messages', $('messages'));
    });

    $('vault-form').addEventListener('submit', function (event) {
      event.preventDefault();
      send($('vault-message'), '/vault/messages', $('vault-messages'));
    });

    $('notify-me').addEventListener('click', function () {
      api('POST', '/notify', {}).catch(function (error) {
        showError('Notify failed: ' + error.message);
      });
    });

    $('leave').addEventListener('click', function () {
      if (state.pusher) state.pusher.disconnect();
      api('DELETE', '/session').finally(function () {
        window.location.reload();
      });
    });
  }

  function send(input, path, list) {
    var text = input.value.trim();
    if (!text) return;
    input.value = '';
    // The sender's socket id makes the server leave this connection out; the page shows its own copy instead.
    api('POST', path, { text: text, socketId: state.pusher.connection.socket_id })
      .then(function (message) {
        addMessage(list, message, true);
      })
      .catch(function (error) {
        input.value = text;
        showError('Not sent: ' + error.message);
      });
  }

  async function start() {
    wire();
    try {
      var config = await api('GET', '/config.json');
      state.config = config.pusher;
      if (config.user) {
        $('name').value = config.user.name;
        enter(config.user);
      } else {
        $('name').focus();
      }
    } catch (error) {
      showError('Could not load the configuration: ' + error.message);
    }
  }

  start();
})();
