'''polkitd mock template that records what it was asked.

Load with: /usr/bin/python3 -m dbusmock --system --template tests/polkitd_recording.py

Everything from python-dbusmock's stock polkitd template (SetAllowed,
AllowUnknown, SetDelay, SimulateHang, SimulateHangActions, ReleaseHangingCalls,
HaveHangingCalls) works as before.  In addition, on org.freedesktop.DBus.Mock:

  GetAuthorizationChecks() -> s     JSON list, one entry per CheckAuthorization:
        {"subject_kind", "subject": {...}, "action_id", "details": {...},
         "flags", "cancellation_id", "result": [authorized, challenge, {details}]
         or null while hanging or "cancelled", "time"}
  ClearAuthorizationChecks()
  SetChallenge(as)             these actions answer (false, true, {}): "could be
                               authorized after authentication"
  SetInteractiveAllowed(as)    challenge actions a simulated agent grants when the
                               caller passed AllowUserInteraction (flags & 1)
  SetDismissed(as)             challenge actions whose prompt the simulated user
                               dismisses when the caller passed AllowUserInteraction:
                               they answer (false, false, {"polkit.dismissed": "true"})
                               as polkitd does when the agent's dialog is closed
  SetFailing(a{ss})            action -> message: CheckAuthorization for these
                               actions fails with org.freedesktop.PolicyKit1.Error.Failed
                               and that message (polkitd broken or restarting)

and on the Authority interface: CancelCheckAuthorization(s), which fails the
matching hanging call with org.freedesktop.PolicyKit1.Error.Cancelled.
'''

import json
import time

import dbus

from dbusmock import MOCK_IFACE
# Re-export the stock template: dbusmock picks up every D-Bus method found in
# this module's namespace, and calls our load().
from dbusmock.templates.polkitd import *  # noqa: F401,F403 pylint: disable=wildcard-import,unused-wildcard-import
from dbusmock.templates.polkitd import load as _stock_load

BUS_NAME = 'org.freedesktop.PolicyKit1'
MAIN_OBJ = '/org/freedesktop/PolicyKit1/Authority'
MAIN_IFACE = 'org.freedesktop.PolicyKit1.Authority'
SYSTEM_BUS = True

ALLOW_USER_INTERACTION = 1


def _plain(v):
    '''dbus-python values -> JSON-able Python values.'''
    if isinstance(v, dbus.Boolean):
        return bool(v)
    if isinstance(v, (dbus.Byte, dbus.Int16, dbus.Int32, dbus.Int64, dbus.UInt16,
                      dbus.UInt32, dbus.UInt64, int)):
        return int(v)
    if isinstance(v, dbus.Double):
        return float(v)
    if isinstance(v, (dbus.String, dbus.ObjectPath, dbus.Signature, str)):
        return str(v)
    if isinstance(v, dbus.types.UnixFd):
        return '<fd>'
    if isinstance(v, (dbus.Array, dbus.Struct, list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, (dbus.Dictionary, dict)):
        return {str(k): _plain(x) for k, x in v.items()}
    return repr(v)


def load(mock, parameters):
    _stock_load(mock, parameters)
    mock.auth_checks = []
    mock.challenge_actions = []
    mock.interactive_allowed = []
    mock.dismissed_actions = []
    mock.failing_actions = {}


@dbus.service.method(MAIN_IFACE,
                     in_signature='(sa{sv})sa{ss}us',
                     out_signature='(bba{ss})',
                     async_callbacks=('ok_cb', 'err_cb'))
def CheckAuthorization(self, subject, action_id, details, flags,
                       cancellation_id, ok_cb, err_cb):
    time.sleep(self.delay)
    kind, subject_dict = subject
    entry = {
        'subject_kind': str(kind),
        'subject': _plain(subject_dict),
        'action_id': str(action_id),
        'details': _plain(details),
        'flags': int(flags),
        'cancellation_id': str(cancellation_id),
        'result': None,
        'time': time.time(),
    }
    self.auth_checks.append(entry)

    if action_id in self.challenge_actions:
        if (flags & ALLOW_USER_INTERACTION) and action_id in self.dismissed_actions:
            ret = (False, False, {'polkit.dismissed': 'true'})
        elif (flags & ALLOW_USER_INTERACTION) and action_id in self.interactive_allowed:
            ret = (True, False, {})
        else:
            ret = (False, True, {})
    else:
        allowed = action_id in self.allowed or self.allow_unknown
        ret = (allowed, False, {})

    answer = _Answer(entry, ok_cb, err_cb)
    if action_id in self.failing_actions:
        answer.fail(self.failing_actions[action_id])
        return
    if self.simulate_hang or action_id in self.hanging_actions:
        # The stock ReleaseHangingCalls() calls cb(ret) for each of these.
        self.hanging_calls.append((answer, ret))
    else:
        answer(ret)


class _Answer:
    '''Reply callback that also records the result in the call log.'''

    def __init__(self, entry, ok_cb, err_cb):
        self.entry = entry
        self.ok_cb = ok_cb
        self.err_cb = err_cb

    def __call__(self, ret):
        self.entry['result'] = [bool(ret[0]), bool(ret[1]), dict(ret[2])]
        self.ok_cb(ret)

    def cancel(self):
        self.entry['result'] = 'cancelled'
        self.err_cb(dbus.exceptions.DBusException(
            'Authorization check was cancelled',
            name='org.freedesktop.PolicyKit1.Error.Cancelled'))

    def fail(self, message):
        self.entry['result'] = 'failed'
        self.err_cb(dbus.exceptions.DBusException(message, name='org.freedesktop.PolicyKit1.Error.Failed'))


@dbus.service.method(MAIN_IFACE, in_signature='s', out_signature='')
def CancelCheckAuthorization(self, cancellation_id):
    '''Fail hanging calls with this cancellation id, as real polkitd does.'''
    keep = []
    for (cb, ret) in self.hanging_calls:
        if (isinstance(cb, _Answer) and cancellation_id
                and cb.entry['cancellation_id'] == cancellation_id):
            cb.cancel()
        else:
            keep.append((cb, ret))
    self.hanging_calls = keep


@dbus.service.method(MOCK_IFACE, in_signature='', out_signature='s')
def GetAuthorizationChecks(self):
    '''All CheckAuthorization calls so far, as JSON.'''
    return json.dumps(self.auth_checks)


@dbus.service.method(MOCK_IFACE, in_signature='', out_signature='')
def ClearAuthorizationChecks(self):
    self.auth_checks = []


@dbus.service.method(MOCK_IFACE, in_signature='as', out_signature='')
def SetChallenge(self, actions):
    '''These actions answer is_authorized=False, is_challenge=True.'''
    self.challenge_actions = [str(a) for a in actions]


@dbus.service.method(MOCK_IFACE, in_signature='as', out_signature='')
def SetInteractiveAllowed(self, actions):
    '''Challenge actions granted when AllowUserInteraction is set.'''
    self.interactive_allowed = [str(a) for a in actions]


@dbus.service.method(MOCK_IFACE, in_signature='as', out_signature='')
def SetDismissed(self, actions):
    '''Challenge actions whose prompt is dismissed when AllowUserInteraction is set.'''
    self.dismissed_actions = [str(a) for a in actions]


@dbus.service.method(MOCK_IFACE, in_signature='a{ss}', out_signature='')
def SetFailing(self, failing):
    '''CheckAuthorization for these actions fails with the given message.'''
    self.failing_actions = {str(k): str(v) for k, v in failing.items()}
