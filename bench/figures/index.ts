// Every figure of issue 12, in the order of its table.
import type { Figure } from '../lib/figure.js';
import { figure as converge } from './converge.js';
import { figure as oldWay } from './old-way.js';
import { figure as cli } from './cli-startup.js';
import { figure as controllerRss } from './controller-rss.js';
import { figure as resync } from './resync.js';
import { figure as edit } from './edit.js';
import { figure as stations } from './stations.js';
import { figure as kvm } from './kvm.js';
import { figure as diskCarry } from './disk-carry.js';

export const FIGURES: Figure[] = [converge, oldWay, cli, controllerRss, resync, edit, stations, kvm, diskCarry];
