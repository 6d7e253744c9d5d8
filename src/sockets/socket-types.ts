/** The socket classes by libzmq type number, for `new Socket(type, options)` (zeromq.js allows it). */
import { Dealer } from "./dealer.js"
import { Pair } from "./pair.js"
import { Publisher } from "./pub.js"
import { Pull } from "./pull.js"
import { Push } from "./push.js"
import { Reply } from "./rep.js"
import { Request } from "./req.js"
import { Router } from "./router.js"
import { socketClasses } from "./socket-by-number.js"
import { Stream } from "./stream.js"
import { Subscriber } from "./sub.js"
import { XPublisher } from "./xpub.js"
import { XSubscriber } from "./xsub.js"

const byNumber = [Pair, Publisher, Subscriber, Request, Reply, Dealer, Router, Pull, Push, XPublisher, XSubscriber, Stream]
byNumber.forEach((SocketClass, type) => socketClasses.set(type, SocketClass))
