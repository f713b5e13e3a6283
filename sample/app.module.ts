import { Module, type DynamicModule } from '@nestjs/common';
import { PusherModule } from 'nest-pusher';
import { ActivityListener } from './activity.listener.js';
import { AppAuthorizer } from './app.authorizer.js';
import { ChatController } from './chat.controller.js';
import { PageController } from './page.controller.js';
import { SAMPLE_CONFIG, type SampleConfig } from './sample.config.js';
import { SessionController } from './session.controller.js';

/**
 * The whole sample. `PusherModule.forRoot` brings `PusherService`, the auth routes (`POST /pusher/auth`,
 * `POST /pusher/user-auth`, answered by {@link AppAuthorizer}) and the webhook route (`POST /pusher/webhooks`,
 * dispatched to {@link ActivityListener}).
 */
@Module({})
export class AppModule {
  static forRoot(config: SampleConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [PusherModule.forRoot({ ...config.pusher, authorizer: AppAuthorizer })],
      controllers: [PageController, SessionController, ChatController],
      providers: [{ provide: SAMPLE_CONFIG, useValue: config }, ActivityListener],
    };
  }
}
